/** kdp: a cluster of Node.js nodes with Kafka as the only coordinator. */
export const version = '0.1.0'
