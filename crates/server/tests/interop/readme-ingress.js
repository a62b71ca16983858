// Adds a booking and its check-in to zs-scheduler's `meetingScheduler` queue, as another
// Node service would. Needs `npm install bullmq@6.7.0 ioredis`, `zs-scheduler serve` running
// with ZS_REDIS_URL set, and a space `room-1` that is free for the next half hour (a check-in
// opens `upcomingLead` before the start: 15 minutes by default, at least 30 seconds here).
const { Queue } = require('bullmq');
const IORedis = require('ioredis');

const connection = new IORedis(process.env.REDIS_URL || 'redis://127.0.0.1:6379', {
  maxRetriesPerRequest: null,
});
const prefix = process.env.ZS_QUEUE_PREFIX || 'bull';
const queue = new Queue('meetingScheduler', { connection, prefix });

async function main() {
  // Instants are RFC 3339 strings; this booking starts in 30 seconds and lasts 25 minutes.
  const start = new Date(Date.now() + 30 * 1000).toISOString();
  const end = new Date(Date.now() + 25.5 * 60 * 1000).toISOString();
  // Jobs for the same booking or space take effect in the order they are added.
  await queue.add('BOOKING_CREATED', { bookingId: 'bk-2', spaceId: 'room-1', start, end, title: 'Design review' });
  await queue.add('USER_CHECKS_IN', { bookingId: 'bk-2' });
  await queue.close();
  await connection.quit();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
