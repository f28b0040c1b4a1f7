// The anchor of `npm run bench:service`: the least an HTTP service can do with the same request
// (read the body, parse it as JSON, answer 201 with a small JSON body), in its own process like
// the real server. The service's figures are quoted as a ratio of this one, measured in the same
// run, because this machine's speed moves by a factor of two or more from one day to the next.
import { createServer } from 'node:http';

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    const reply = JSON.stringify({ received: typeof parsed });
    response.writeHead(201, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(reply) });
    response.end(reply);
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${typeof address === 'object' && address ? address.port : ''}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
