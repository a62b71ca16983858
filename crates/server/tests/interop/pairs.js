// Adds ingress jobs back to back with the real `bullmq` package, as a busy Node service
// would: every `queue.add` is issued at once, none awaited before the next, in the order
// given. Prints the job ids as one JSON array (same order) once all are added.
// Usage: node pairs.js <redisUrl> <prefix> <file with a json array of {name, data}>
const fs = require('fs');
const { Queue } = require('bullmq');
const IORedis = require('ioredis');

async function main() {
  const [url, prefix, file] = process.argv.slice(2);
  const connection = new IORedis(url, { maxRetriesPerRequest: null });
  const queue = new Queue('meetingScheduler', { connection, prefix });
  await queue.waitUntilReady();
  const jobs = JSON.parse(fs.readFileSync(file, 'utf8'));
  const added = await Promise.all(jobs.map(({ name, data }) => queue.add(name, data)));
  console.log(JSON.stringify(added.map((j) => j.id)));
  await queue.close();
  await connection.quit();
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
