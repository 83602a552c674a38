// The three upstreams of the benchmark, in one process of their own: fixed latency,
// answers from the demo data, each distinct URL's JSON built once so the upstream
// side costs as little CPU as possible. Driven by its parent over IPC.
import { createServer, type Server } from 'node:http';
import { demoReply } from '../src/demo/services.js';
import {
  perService,
  perServiceAsync,
  SERVICES,
  type PerService,
  type ServiceName,
} from '../src/upstreams/services.js';
import { listen, type ToUpstreams } from './lib.js';

const calls = perService<PerService<number>>(() => 0);
let connections = 0;
let latencyMs = perService<PerService<number>>(() => 0);

function upstream(service: ServiceName): Server {
  const replies = new Map<string, { status: number; json: Buffer }>();
  const server = createServer((req, res) => {
    calls[service]++;
    const key = req.url ?? '/';
    let reply = replies.get(key);
    if (!reply) {
      const { status, body } = demoReply(service, new URL(key, 'http://upstream'));
      reply = { status, json: Buffer.from(JSON.stringify(body)) };
      replies.set(key, reply);
    }
    const { status, json } = reply;
    const send = () => {
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': json.length });
      res.end(json);
    };
    const delay = latencyMs[service];
    if (delay > 0) setTimeout(send, delay);
    else send();
    // Drain the (empty) request body so the connection can be reused.
    req.resume();
  });
  server.on('connection', () => connections++);
  return server;
}

const urls = await perServiceAsync((service) => listen(upstream(service)));

process.on('message', (message: ToUpstreams) => {
  switch (message.type) {
    case 'latency':
      latencyMs = message.latencyMs;
      break;
    case 'reset':
      for (const service of SERVICES) calls[service] = 0;
      connections = 0;
      break;
  }
  process.send?.({ type: 'ack', calls: { ...calls }, connections, cpuMs: cpuMs() });
});
process.send?.({ type: 'ready', urls });

function cpuMs() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}
