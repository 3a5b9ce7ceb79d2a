// The service benchmark's baseline: a bare node:http server that reads the body, answers 200
// with a small JSON and stores nothing. Also answers enrolment with 201. Prints its URL.
import { createServer } from 'node:http';

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    res.writeHead(req.url === '/v1/rigs' ? 201 : 200, { 'content-type': 'application/json' });
    res.end('{"results":[]}');
  });
});
server.listen(0, '127.0.0.1', () =>
  process.stdout.write(`http://127.0.0.1:${server.address().port}\n`),
);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
