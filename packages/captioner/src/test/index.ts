export { startChatCompletionsServer } from './chat-completions-server';
export type {
  ChatCompletionsHandler,
  ChatCompletionsReply,
  ChatCompletionsRequest,
  ChatCompletionsServer,
} from './chat-completions-server';
export { CHAT_COMPLETIONS_FAULTS, faultReply, startFaultInjectingServer } from './fault-injecting-server';
export type { ChatCompletionsFault, FaultInjectingServer, FaultInjectionOptions } from './fault-injecting-server';
