// One chat node as its own OS process, for the chat tests. Configuration (a ChatNodeConfig) comes
// in KDP_TEST_CHAT_NODE; prints {"ready", "http", "pid"} when the node serves, and stops on SIGTERM.

import { decodeOrThrow } from '../../../../examples/chat/messages.js'
import { ChatNodeConfigCodec, startChatNode } from '../../../../examples/chat/node.js'
import { createLogger } from '../../../../src/index.js'

const config = decodeOrThrow(
  ChatNodeConfigCodec,
  JSON.parse(process.env.KDP_TEST_CHAT_NODE ?? 'null'),
  'test node',
)
const node = await startChatNode(config, createLogger({ name: 'chat' }))
process.stdout.write(`${JSON.stringify({ ready: node.nodeId, http: node.httpAddress, pid: process.pid })}\n`)
process.once('SIGTERM', () => void node.stop().then(() => process.exit(0)))
