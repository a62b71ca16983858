// A Node service's `QueueEvents` (real `bullmq` package) on a queue. Prints `{"ready":true}`
// once it listens, then one JSON line per `completed`, `failed`, `delayed` and
// `retries-exhausted` event. On `delayed` and `failed` it also reads the job (`getJob`) and
// adds what Node sees then: attemptsMade, failedReason, stacktrace, delay, processedOn.
// Closing its stdin stops it.
// Usage: node events.js <redisUrl> <prefix> <queue>
const { Queue, QueueEvents } = require('bullmq');
const IORedis = require('ioredis');

async function main() {
  const [url, prefix, queueName] = process.argv.slice(2);
  const connection = new IORedis(url, { maxRetriesPerRequest: null });
  const queue = new Queue(queueName, { connection, prefix, skipMetasUpdate: true });
  const events = new QueueEvents(queueName, { connection: connection.duplicate(), prefix });
  const print = (o) => console.log(JSON.stringify(o));
  const seen = async (jobId) => {
    const job = await queue.getJob(jobId);
    if (!job) return { missing: true };
    return {
      attemptsMade: job.attemptsMade,
      failedReason: job.failedReason === undefined ? null : job.failedReason,
      stacktrace: job.stacktrace,
      delay: job.delay,
      processedOn: job.processedOn === undefined ? null : job.processedOn,
      state: await job.getState(),
    };
  };
  events.on('completed', ({ jobId, returnvalue }) => print({ event: 'completed', jobId, returnvalue }));
  events.on('failed', async ({ jobId, failedReason }) =>
    print({ event: 'failed', jobId, failedReason, job: await seen(jobId) }));
  events.on('delayed', async ({ jobId, delay }) =>
    print({ event: 'delayed', jobId, due: Number(delay), job: await seen(jobId) }));
  events.on('retries-exhausted', ({ jobId, attemptsMade }) =>
    print({ event: 'retries-exhausted', jobId, attemptsMade: Number(attemptsMade) }));
  await events.waitUntilReady();
  print({ ready: true });
  process.stdin.resume();
  await new Promise((r) => process.stdin.on('end', r));
  await events.close();
  await queue.close();
  await connection.quit();
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
