#!/usr/bin/env node
// The image's HEALTHCHECK: is the service answering on this container's port? Plain JavaScript, so
// it starts in milliseconds without the TypeScript loader. Exit 0 healthy, 1 not.
const port = process.env.PORT || '3000';
try {
  const response = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2_000) });
  process.exitCode = response.ok ? 0 : 1;
} catch {
  process.exitCode = 1;
}
