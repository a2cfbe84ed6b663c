export { haveRedis, redisTestsReady, freePort, startRedis, startChatServer, spawnWorker } from './local-services';
