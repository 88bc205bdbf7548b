// Sends one two-span trace with the npm jaeger-client, as a Node.js service instrumented with it would:
//   node send.js udp HOST PORT SERVICE     (Thrift binary over UDP, the client's agent sender)
//   node send.js http URL SERVICE          (Thrift binary over HTTP, the client's collector sender)
// Prints "TRACE <trace id>" once the reporter has flushed.
const { initTracer } = require('jaeger-client');
const [mode, target, portOrService, maybeService] = process.argv.slice(2);
const service = mode === 'udp' ? maybeService : portOrService;
const reporter = mode === 'udp'
  ? { agentHost: target, agentPort: Number(portOrService) }
  : { collectorEndpoint: target };
const tracer = initTracer(
  { serviceName: service, sampler: { type: 'const', param: 1 }, reporter: { ...reporter, flushIntervalMs: 100 } },
  { tags: { 'deployment.environment': 'test' }, logger: { info() {}, error(e) { console.error(e); process.exitCode = 1; } } });
const parent = tracer.startSpan('GET /checkout', { tags: { 'span.kind': 'server', 'http.method': 'GET' } });
const child = tracer.startSpan('charge card', { childOf: parent.context(), tags: { 'span.kind': 'client', 'order.value': 99.5, 'retry.count': 3, 'cache.hit': false } });
child.log({ event: 'payment declined', 'decline.code': 'insufficient_funds' });
child.setTag('error', true);
child.finish();
parent.finish();
tracer.close(() => console.log('TRACE ' + parent.context().traceIdStr));
