export { haveRedis, redisTestsReady, freePort, startRedis, startChatServer, spawnWorker, waitForWorkerLine } from './local-services';
