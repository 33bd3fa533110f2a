import { describe, expect, it } from 'vitest'
import { FakeStatusView, json, node, startTestApi } from './fakes.js'

describe('cluster endpoints', () => {
  it('GET /health answers ok with the node id', async () => {
    const { url } = await startTestApi({ nodeId: 'node-7' })
    const response = await fetch(url('/health'))
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^application\/json/)
    expect(await json(response)).toEqual({ status: 'ok', nodeId: 'node-7' })
  })

  it('GET /nodes answers the status view as is, lost nodes included', async () => {
    const nodes = [
      node('node-a', { httpAddress: 'http://127.0.0.1:8080', lag: 12, warnings: ['slow sink'] }),
      node('node-b', { lost: true }),
    ]
    const { url } = await startTestApi({ status: new FakeStatusView(nodes) })
    const response = await fetch(url('/nodes'))
    expect(response.status).toBe(200)
    expect(await json(response)).toEqual(nodes)
  })

  it('GET /nodes and /processes answer empty lists for an empty cluster', async () => {
    const { url } = await startTestApi()
    expect(await json(await fetch(url('/nodes')))).toEqual([])
    expect(await json(await fetch(url('/processes')))).toEqual([])
  })

  it('GET /processes flattens every process with its node and whether that node is lost', async () => {
    const status = new FakeStatusView([
      node('node-a', {
        processes: [
          { group: 'archivers', key: 'tweets', partition: 3, fencingToken: 7, state: 'running' },
          { group: 'master', key: 'master', partition: 0, fencingToken: 2, state: 'starting' },
        ],
      }),
      node('node-b', {
        lost: true,
        processes: [{ group: 'archivers', key: 'clicks', partition: 1, fencingToken: 5, state: 'stopping' }],
      }),
      node('node-c'),
    ])
    const { url } = await startTestApi({ status })
    const response = await fetch(url('/processes'))
    expect(response.status).toBe(200)
    expect(await json(response)).toEqual([
      {
        nodeId: 'node-a',
        lost: false,
        group: 'archivers',
        key: 'tweets',
        partition: 3,
        fencingToken: 7,
        state: 'running',
      },
      {
        nodeId: 'node-a',
        lost: false,
        group: 'master',
        key: 'master',
        partition: 0,
        fencingToken: 2,
        state: 'starting',
      },
      {
        nodeId: 'node-b',
        lost: true,
        group: 'archivers',
        key: 'clicks',
        partition: 1,
        fencingToken: 5,
        state: 'stopping',
      },
    ])
  })

  it('reflects the status view as it changes', async () => {
    const status = new FakeStatusView([node('node-a')])
    const { url } = await startTestApi({ status })
    expect(await json(await fetch(url('/nodes')))).toHaveLength(1)
    status.reported = [node('node-a'), node('node-b')]
    expect(await json(await fetch(url('/nodes')))).toHaveLength(2)
  })
})
