export { haveRedis, freePort, startRedis, startChatServer, spawnWorker } from './local-services';
