export { startChatCompletionsServer } from './chat-completions-server';
export type {
  ChatCompletionsHandler,
  ChatCompletionsReply,
  ChatCompletionsRequest,
  ChatCompletionsServer,
} from './chat-completions-server';
