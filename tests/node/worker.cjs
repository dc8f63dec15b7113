// A worker thread for process.test.mjs: streams one reply and posts its text.
const { parentPort, workerData } = require('node:worker_threads');
const { Client } = require('mixerlead');

new Client({ apiKey: workerData.key, baseUrl: workerData.url })
  .chat.send({ message: 'from a worker' })
  .then((reply) => parentPort.postMessage(reply.text));
