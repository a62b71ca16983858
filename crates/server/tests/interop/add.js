// Adds jobs with the real `bullmq` package in one `Queue.addBulk`, as a Node service would,
// and prints the ids as one JSON array (in the order given). It does not wait for them.
// Usage: node add.js <redisUrl> <prefix> <queue> '<json array of {name, data, opts?}>'
const { Queue } = require('bullmq');
const IORedis = require('ioredis');

async function main() {
  const [url, prefix, queueName, jobsJson] = process.argv.slice(2);
  const connection = new IORedis(url, { maxRetriesPerRequest: null });
  const queue = new Queue(queueName, { connection, prefix });
  const jobs = await queue.addBulk(JSON.parse(jobsJson));
  console.log(JSON.stringify(jobs.map((j) => j.id)));
  await queue.close();
  await connection.quit();
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
