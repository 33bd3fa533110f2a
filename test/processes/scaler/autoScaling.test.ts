// The scaler acting on an Auto Scaling group in moto, with nodes in this process: scale-in only by a
// drain, then a termination of exactly the drained node's instance; protection from the group's own
// scale-in; AWS errors as events with backoff while archiving goes on.
import { createServer, type Server } from 'node:http'
import { SetInstanceProtectionCommand, UpdateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling'
import { afterEach, describe, expect, inject, it } from 'vitest'
import type { ArchiverNode } from '../../../src/processes/archiverNode.js'
import {
  createAutoScalingGroup,
  describeGroup,
  motoAutoScaling,
  motoCredentials,
  motoRegion,
} from '../../helpers/aws.js'
import { eventually, uniqueName } from '../../helpers/names.js'
import { type ClusterEventRecord, followEvents, putJson, startNode, stopNode } from './harness.js'

const moto = inject('motoEndpoint')
const servers: Server[] = []
async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections()
  await new Promise((r) => server.close(r))
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map(closeServer))
})

const autoscaling = (group: string, endpoint = moto) => ({
  group,
  endpoint,
  region: motoRegion,
  credentials: motoCredentials,
})

function indexOf(events: readonly ClusterEventRecord[], type: string, target: string): number {
  return events.findIndex((e) => e.type === type && e.target === target)
}

async function putTopic(node: ArchiverNode, topic: string, parallelism: number): Promise<void> {
  const put = await putJson(`${node.httpAddress}/topics/${topic}/config`, {
    sinks: [{ id: 'local', url: 'file:///tmp/kdp-scaler-test' }],
    parallelism,
  })
  expect(put.status).toBe(200)
}

describe('scale-in through a drain', () => {
  it('drains the least-loaded node, terminates exactly its instance, one at a time down to the minimum', {
    timeout: 240_000,
  }, async () => {
    const client = motoAutoScaling()
    const group = uniqueName('asg')
    const cluster = uniqueName('sd')
    await createAutoScalingGroup(client, group, { min: 1, max: 3, desired: 3 })
    const initial = await describeGroup(client, group)
    expect(initial.inService).toHaveLength(3)
    // One instance the group could scale in by itself: the scaler must protect it.
    const exposed = initial.inService[2]!
    await client.send(
      new SetInstanceProtectionCommand({
        AutoScalingGroupName: group,
        InstanceIds: [exposed],
        ProtectedFromScaleIn: false,
      }),
    )
    const events = await followEvents(cluster)
    const byInstance = new Map<string, ArchiverNode>()
    for (const [i, instanceId] of initial.inService.entries()) {
      byInstance.set(
        instanceId,
        await startNode(cluster, `n${i}`, { instanceId, autoscaling: autoscaling(group) }),
      )
    }
    const first = [...byInstance.values()][0]!
    await putTopic(first, uniqueName('t'), 2)
    const config = {
      mode: 'auto',
      intervalMs: 500,
      calmIntervals: 3,
      scaleInCooldownMs: 2000,
      drainTimeoutMs: 30_000,
      maxNodes: 3,
    }
    expect((await putJson(`${first.httpAddress}/scaling/config`, config)).status).toBe(200)

    // A launcher's half: a node whose instance left the group stops (its machine would shut down).
    const desiredSeen: number[] = []
    let watching = true
    const watcher = (async () => {
      while (watching) {
        const now = await describeGroup(client, group)
        desiredSeen.push(now.desired)
        for (const [instanceId, node] of byInstance) {
          if (!now.inService.includes(instanceId)) {
            byInstance.delete(instanceId)
            await stopNode(node)
          }
        }
        await new Promise((r) => setTimeout(r, 200))
      }
    })()
    await eventually(
      'the group down to its minimum, one node left',
      async () => {
        const now = await describeGroup(client, group)
        return now.desired === 1 && byInstance.size === 1 && now.inService.length === 1 ? true : undefined
      },
      180_000,
      500,
    )
    watching = false
    await watcher

    // The events come through Kafka, a moment after Auto Scaling shows the terminations.
    const terminated = await eventually('two instance-terminated events', () => {
      const found = events.filter((e) => e.type === 'instance-terminated')
      return found.length >= 2 ? found : undefined
    })
    expect(terminated).toHaveLength(2)
    for (const t of terminated) {
      const target = String(t.target)
      const requested = indexOf(events, 'drain-requested', target)
      const drained = indexOf(events, 'node-drained', target)
      expect(requested, target).toBeGreaterThanOrEqual(0)
      expect(drained, target).toBeGreaterThan(requested)
      expect(events.indexOf(t), target).toBeGreaterThan(drained)
      expect(events[drained]).toMatchObject({ reReadRecords: 0 })
    }
    expect(
      events.filter((e) => e.type === 'scaling-decision').map((e) => `${e.action} ${e.from}→${e.to}`),
    ).toEqual(['in 3→2', 'in 2→1'])
    const protectedIds = events
      .filter((e) => e.type === 'instances-protected')
      .flatMap((e) => e.instanceIds as string[])
    expect(protectedIds).toContain(exposed)
    expect(Math.min(...desiredSeen)).toBeGreaterThanOrEqual(1)
    expect(Math.max(...desiredSeen)).toBeLessThanOrEqual(3)
    // The archivers of the drained nodes run on the last one.
    const last = [...byInstance.values()][0]!
    await eventually('both archivers on the last node', () =>
      last.running().length === 2 ? true : undefined,
    )
    client.destroy()
  })
})

describe('scale-in of an instance that never brought up a node', () => {
  it('ends that instance after joinTimeoutMs, without a drain, and keeps the node that runs', {
    timeout: 120_000,
  }, async () => {
    const client = motoAutoScaling()
    const group = uniqueName('asg')
    const cluster = uniqueName('nj')
    await createAutoScalingGroup(client, group, { min: 1, max: 3, desired: 2 })
    const [running, silent] = (await describeGroup(client, group)).inService
    const events = await followEvents(cluster)
    const node = await startNode(cluster, 'n0', { instanceId: running!, autoscaling: autoscaling(group) })
    await putTopic(node, uniqueName('t'), 1)
    const config = {
      mode: 'auto',
      intervalMs: 500,
      calmIntervals: 3,
      scaleInCooldownMs: 2000,
      joinTimeoutMs: 3000,
    }
    expect((await putJson(`${node.httpAddress}/scaling/config`, config)).status).toBe(200)

    await eventually(
      'the group down to the one instance with a node',
      async () => {
        const now = await describeGroup(client, group)
        return now.desired === 1 && now.inService.length === 1 ? now : undefined
      },
      60_000,
      500,
    ).then((now) => expect(now.inService).toEqual([running]))
    // The events come through Kafka, a moment after Auto Scaling shows the termination.
    const ended = await eventually('the unjoined-instance-terminated event', () => {
      const found = events.filter((e) => e.type === 'unjoined-instance-terminated')
      return found.length > 0 ? found : undefined
    })
    expect(ended.map((e) => e.instanceId)).toEqual([silent])
    expect(events.filter((e) => e.type === 'drain-requested')).toEqual([])
    // The decision may come after the termination's event: the events topic is read as it comes.
    const decisions = await eventually('the scaling-decision event', () => {
      const found = events.filter((e) => e.type === 'scaling-decision')
      return found.length > 0 ? found : undefined
    })
    expect(decisions.map((e) => `${e.action} ${e.from}→${e.to}`)).toEqual(['in 2→1'])
    expect(String(decisions[0]!.reason)).toMatch(/did not join within 3 s/)
    expect(node.running().length).toBe(1)
    client.destroy()
  })
})

describe('a group that does not protect new instances', () => {
  it('is a warning in GET /scaling and one scaling-warning event, gone once the group sets it', {
    timeout: 120_000,
  }, async () => {
    const client = motoAutoScaling()
    const group = uniqueName('asg')
    const cluster = uniqueName('np')
    await createAutoScalingGroup(client, group, { min: 1, max: 1, desired: 1 })
    const setProtection = (on: boolean) =>
      client.send(
        new UpdateAutoScalingGroupCommand({
          AutoScalingGroupName: group,
          NewInstancesProtectedFromScaleIn: on,
        }),
      )
    await setProtection(false)
    const [instanceId] = (await describeGroup(client, group)).inService
    const events = await followEvents(cluster)
    const node = await startNode(cluster, 'n0', { instanceId: instanceId!, autoscaling: autoscaling(group) })
    await putTopic(node, uniqueName('t'), 1)
    expect(
      (await putJson(`${node.httpAddress}/scaling/config`, { mode: 'auto', intervalMs: 500 })).status,
    ).toBe(200)
    const scaling = async () =>
      (await (await fetch(`${node.httpAddress}/scaling`)).json()) as { warnings: string[] }
    const unprotected = (warning: string) => warning.includes('NewInstancesProtectedFromScaleIn')

    const warned = await eventually('the warning in GET /scaling', async () => {
      const { warnings } = await scaling()
      return warnings.some(unprotected) ? warnings : undefined
    })
    expect(warned.filter(unprotected)).toEqual([
      `Auto Scaling group ${group} does not set NewInstancesProtectedFromScaleIn: until the scaler protects a new instance (its next round), the group's own scale-in may end that node without a drain; set it on the group`,
    ])
    await eventually('the scaling-warning event', () =>
      events.some((e) => e.type === 'scaling-warning' && unprotected(String(e.reason))) ? true : undefined,
    )

    await setProtection(true)
    await eventually('the warning gone from GET /scaling', async () =>
      (await scaling()).warnings.some(unprotected) ? undefined : true,
    )
    // Written when it appeared, not again each round.
    expect(events.filter((e) => e.type === 'scaling-warning' && unprotected(String(e.reason)))).toHaveLength(
      1,
    )
    client.destroy()
  })
})

/** An Auto Scaling endpoint in front of moto that answers chosen errors (fault injection). */
async function faultyEndpoint(): Promise<{
  url: string
  fault: (f: 'throttle' | 'deny' | undefined) => void
}> {
  let fault: 'throttle' | 'deny' | undefined
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      if (fault !== undefined) {
        const [status, code, message] =
          fault === 'throttle'
            ? [400, 'Throttling', 'Rate exceeded']
            : [403, 'AccessDenied', 'not authorized to perform autoscaling:DescribeAutoScalingGroups']
        res.writeHead(status, { 'content-type': 'text/xml' })
        res.end(
          `<ErrorResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>r</RequestId></ErrorResponse>`,
        )
        return
      }
      const headers = Object.fromEntries(
        Object.entries(req.headers)
          .filter(([k]) => k !== 'host' && k !== 'content-length')
          .map(([k, v]) => [k, String(v)]),
      )
      void fetch(`${moto}${req.url ?? '/'}`, {
        method: req.method ?? 'POST',
        headers,
        body: Buffer.concat(chunks),
      }).then(
        async (answer) => {
          res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'text/xml' })
          res.end(Buffer.from(await answer.arrayBuffer()))
        },
        () => {
          res.writeHead(502)
          res.end()
        },
      )
    })
  })
  servers.push(server)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return {
    url: `http://127.0.0.1:${address.port}`,
    fault: (f) => {
      fault = f
    },
  }
}

describe('AWS errors', () => {
  it('group not found, throttling, access denied, AWS unreachable: an event each, backoff, no crash loop, archiving goes on', {
    timeout: 180_000,
  }, async () => {
    const client = motoAutoScaling()
    const group = uniqueName('asg')
    await createAutoScalingGroup(client, group, { min: 1, max: 2, desired: 1 })
    const [instanceId] = (await describeGroup(client, group)).inService
    const endpoint = await faultyEndpoint()
    const cluster = uniqueName('se')
    const events = await followEvents(cluster)
    // First a group that does not exist.
    const lost = await startNode(cluster, 'lost', {
      instanceId: instanceId!,
      autoscaling: autoscaling(`${group}-missing`, endpoint.url),
    })
    const config = { mode: 'auto', intervalMs: 300, errorBackoffMaxMs: 1200 }
    expect((await putJson(`${lost.httpAddress}/scaling/config`, config)).status).toBe(200)
    await putTopic(lost, uniqueName('t'), 1)
    const errors = (code: string) => events.filter((e) => e.type === 'scaling-error' && e.code === code)
    await eventually(
      'four group-not-found errors',
      () => (errors('group-not-found').length >= 4 ? true : undefined),
      60_000,
    )
    // The backoff doubles from the interval up to its cap.
    expect(
      errors('group-not-found')
        .slice(0, 4)
        .map((e) => e.retryInMs),
    ).toEqual([300, 600, 1200, 1200])
    expect(await (await fetch(`${lost.httpAddress}/scaling`)).json()).toMatchObject({
      action: 'hold',
      reason: expect.stringMatching(/cannot read the Auto Scaling group: .*group-not-found/),
    })
    expect(lost.running().length).toBe(1)
    await stopNode(lost)

    // Then the right group behind the faulty endpoint.
    const node = await startNode(cluster, 'n', {
      instanceId: instanceId!,
      autoscaling: autoscaling(group, endpoint.url),
    })
    for (const [fault, code] of [
      ['throttle', 'throttled'],
      ['deny', 'access-denied'],
    ] as const) {
      endpoint.fault(fault)
      await eventually(`a ${code} error`, () => (errors(code).length >= 2 ? true : undefined), 60_000)
      expect(node.running().length).toBe(1)
    }
    endpoint.fault(undefined)
    await eventually(
      'the scaler acting on the group again',
      async () => {
        const answer = (await (await fetch(`${node.httpAddress}/scaling`)).json()) as {
          reason: string
          actsOnAws: boolean
        }
        return answer.actsOnAws && !answer.reason.includes('cannot read') ? true : undefined
      },
      60_000,
    )
    // AWS unreachable altogether.
    await closeServer(servers.pop()!)
    await eventually(
      'an unreachable error',
      () => (errors('unreachable').length >= 2 ? true : undefined),
      60_000,
    )
    expect(node.running().length).toBe(1)
    expect(events.filter((e) => e.type === 'process-failed')).toEqual([])
    // One scaler ever started: it never crashed and restarted.
    expect(events.filter((e) => e.type === 'scaler-started').map((e) => e.nodeId)).toEqual(['lost', 'n'])
    client.destroy()
  })
})
