// Reads a queue with the real `bullmq` package, as a Node inspector would, and prints one
// JSON object: job counts, the ids per state (`Queue.getJobs`), each named job as Node
// sees it (`Queue.getJob` + `getState`), and `Queue.getVersion()`.
// Usage: node inspect.js <redisUrl> <prefix> <queue> '<json array of job ids>'
// It opens no `Queue` of its own name on the meta (skipMetasUpdate), so it changes nothing.
const { Queue } = require('bullmq');
const IORedis = require('ioredis');

const STATES = ['waiting', 'delayed', 'active', 'completed', 'failed', 'prioritized'];

async function describe(queue, id) {
  const job = await queue.getJob(id);
  if (!job) return { id, missing: true };
  return {
    id: job.id,
    name: job.name,
    data: job.data,
    opts: job.opts,
    timestamp: job.timestamp,
    delay: job.delay,
    attemptsMade: job.attemptsMade,
    attemptsStarted: job.attemptsStarted,
    failedReason: job.failedReason === undefined ? null : job.failedReason,
    stacktrace: job.stacktrace,
    returnvalue: job.returnvalue === undefined ? null : job.returnvalue,
    processedOn: job.processedOn === undefined ? null : job.processedOn,
    finishedOn: job.finishedOn === undefined ? null : job.finishedOn,
    state: await job.getState(),
  };
}

async function main() {
  const [url, prefix, queueName, idsJson] = process.argv.slice(2);
  const connection = new IORedis(url, { maxRetriesPerRequest: null });
  const queue = new Queue(queueName, { connection, prefix, skipMetasUpdate: true });
  const counts = await queue.getJobCounts(...STATES);
  const lists = {};
  for (const state of STATES) {
    lists[state] = (await queue.getJobs([state])).map((j) => j.id).sort();
  }
  const jobs = [];
  for (const id of JSON.parse(idsJson || '[]')) jobs.push(await describe(queue, id));
  const version = await queue.getVersion();
  console.log(JSON.stringify({ counts, lists, jobs, version }));
  await queue.close();
  await connection.quit();
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
