/** Payloads shaped like the server's (docs/protocol.md) for the unit tests. */

import type { Job, LaunchConfig } from "../../src/protocol";

export function job(overrides: Partial<Job> = {}): Job {
  return {
    id: "bt1jobid0000000000aa",
    backend: "local",
    projectId: "localproject00000000",
    name: null,
    desc: null,
    status: "EXECUTING",
    statusDetails: "",
    createdAt: "2026-11-24T10:15:00.123456+00:00",
    startedAt: null,
    finishedAt: null,
    exitCode: null,
    link: null,
    workingDir: "/home/u/proj",
    entryFile: "/home/u/proj/train.py",
    configPath: null,
    logOffset: 0,
    outputsDownloaded: false,
    ...overrides,
  };
}

export function serverLaunchConfig(): LaunchConfig {
  return {
    name: "DataSphere: train.py",
    program: "/home/u/proj/train.py",
    args: ["--epochs", "3"],
    workingDirectory: "/home/u/proj",
    inputs: ["data/train.csv=TRAIN", "data/extra"],
    outputs: ["model.bin=MODEL"],
    projectId: "abcdefghij0123456789",
    configFile: null,
    instanceType: "g1.1",
    s3Mounts: ["bt1s3connector000001"],
    datasets: ["mnist=MNIST"],
    envVars: ["MODE:fast", "URL:http://x:1/a=b"],
    dockerImage: null,
    dockerUsername: null,
    dockerPasswordSecret: null,
    pythonBuild: "manual",
    pythonVersion: "3.11",
    requirementsFile: "requirements.txt",
    extraRootPaths: ["lib"],
    extraIndexUrls: ["https://pypi.example/simple"],
    noDependencies: true,
    jobName: "train",
    jobDesc: null,
  };
}
