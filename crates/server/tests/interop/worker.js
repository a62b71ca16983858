// A Node service's `Worker` (real `bullmq` package) on a queue. Prints `{"ready":true}` once
// it listens, then one JSON line per job it completed ({id, name}); it returns
// `{by: "node", name, data}` for each job. Closing its stdin closes the worker gracefully,
// after which it prints `{"closed":true}` and exits.
// Usage: node worker.js <redisUrl> <prefix> <queue> <concurrency>
const { Worker } = require('bullmq');
const IORedis = require('ioredis');

async function main() {
  const [url, prefix, queueName, concurrency] = process.argv.slice(2);
  const connection = new IORedis(url, { maxRetriesPerRequest: null });
  const worker = new Worker(
    queueName,
    async (job) => {
      // A little work, so the other workers of a mixed fleet get their share.
      await new Promise((r) => setTimeout(r, 2));
      return { by: 'node', name: job.name, data: job.data };
    },
    { connection, prefix, concurrency: Number(concurrency || 1) },
  );
  worker.on('completed', (job) => console.log(JSON.stringify({ id: job.id, name: job.name })));
  worker.on('error', (e) => console.error('worker error', e));
  await worker.waitUntilReady();
  console.log(JSON.stringify({ ready: true }));
  process.stdin.resume();
  await new Promise((r) => process.stdin.on('end', r));
  await worker.close();
  await connection.quit();
  console.log(JSON.stringify({ closed: true }));
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
