/** The OAuth-token page and the check of what the user pastes. Pure module. */

export const OAUTH_TOKEN_URL =
  "https://oauth.yandex.ru/authorize?response_type=token&client_id=1a6990aa636648e9b2ef855fa7bec2fb";

/** A message for the input box, or undefined when the text looks like a token. */
export function validateTokenInput(value: string): string | undefined {
  const token = value.trim();
  if (!token) {
    return "Paste the OAuth token from the OAuth-token page.";
  }
  if (/\s/.test(token)) {
    return "An OAuth token has no spaces.";
  }
  return undefined;
}
