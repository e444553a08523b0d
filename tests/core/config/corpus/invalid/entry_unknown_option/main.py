def run() -> None:
    print("hello")


if __name__ == "__main__":
    run()
