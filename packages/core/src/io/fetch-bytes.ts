import { InvalidInputError } from '../errors';

/** Fetches `url` (a URL or a path relative to the page) and returns its bytes; errors name the URL and the status. */
export async function fetchBytes(url: string, what = 'file', init?: RequestInit): Promise<Uint8Array> {
  const response = await fetchOk(url, what, init);
  return new Uint8Array(await response.arrayBuffer());
}

/** Fetches `url` and returns its text (UTF-8). */
export async function fetchText(url: string, what = 'file', init?: RequestInit): Promise<string> {
  const response = await fetchOk(url, what, init);
  return response.text();
}

async function fetchOk(url: string, what: string, init?: RequestInit): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    throw new InvalidInputError(`cannot fetch the ${what} (${(error as Error).message}). Check the URL and that the server is running.`, {
      file: url,
      cause: error,
    });
  }
  if (!response.ok) {
    throw new InvalidInputError(
      `fetching the ${what} failed: HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}. Check the URL.`,
      { file: url },
    );
  }
  return response;
}
