// Adds jobs to a queue with the real `bullmq` package, as an existing Node service would,
// then waits for each to finish and prints one JSON line per job with its final state.
// Usage: node producer.js <redisUrl> <prefix> <queue> '<json array of {name, data}>'
const { Queue, QueueEvents } = require('bullmq');
const IORedis = require('ioredis');

async function main() {
  const [url, prefix, queueName, jobsJson] = process.argv.slice(2);
  const connection = new IORedis(url, { maxRetriesPerRequest: null });
  const queue = new Queue(queueName, { connection, prefix });
  const events = new QueueEvents(queueName, { connection: connection.duplicate(), prefix });
  await events.waitUntilReady();
  for (const { name, data } of JSON.parse(jobsJson)) {
    const job = await queue.add(name, data);
    let state;
    try {
      const value = await job.waitUntilFinished(events, 15000);
      state = { name, id: job.id, state: 'completed', value };
    } catch (err) {
      const stored = await queue.getJob(job.id);
      state = { name, id: job.id, state: await stored.getState(), error: String(err.message || err), failedReason: stored.failedReason, attemptsMade: stored.attemptsMade };
    }
    console.log(JSON.stringify(state));
  }
  await events.close();
  await queue.close();
  await connection.quit();
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
