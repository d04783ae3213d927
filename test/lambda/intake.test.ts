import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { acceptOrder, duplicateKey, IntakeDependencies, refuseContentType } from '../../lambda/intake/intake';
import { createJournalTable, createOrderQueues, documents, queueDepth, scanAll, silentLogger, sqs } from '../helpers/aws';

const LIMIT_ORDER = { clientOrderId: 'c-1001', accountId: 'acct-7', symbol: 'AAPL', side: 'buy', orderType: 'limit', quantity: '100', limitPrice: '187.25' };

describe('order intake against moto_server', () => {
  let deps: IntakeDependencies;

  beforeEach(async () => {
    const [journalTable, queues] = await Promise.all([createJournalTable(), createOrderQueues(5, 30)]);
    deps = { documents, sqs, journalTable, queueUrl: queues.queueUrl, region: 'us-east-1', pendingShards: 8, maxBodyBytes: 4096, logger: silentLogger };
  });

  const submit = (body: unknown, overrides: Partial<IntakeDependencies> = {}) =>
    acceptOrder(typeof body === 'string' ? body : JSON.stringify(body), false, { ...deps, ...overrides });

  it('journals a valid order, queues it, and answers 201', async () => {
    const response = await submit(LIMIT_ORDER);
    expect(response.statusCode).toBe(201);
    const answer = JSON.parse(response.body);
    expect(answer).toMatchObject({
      clientOrderId: 'c-1001',
      status: 'accepted',
      acceptedRegion: 'us-east-1',
      orderId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    const items = await scanAll(deps.journalTable);
    expect(items).toEqual([
      expect.objectContaining({ clientOrderId: 'c-1001', orderId: answer.orderId, pendingShard: expect.stringMatching(/^p#[0-7]$/), limitPrice: '187.25' }),
    ]);
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: deps.queueUrl, MaxNumberOfMessages: 10 }));
    expect(received.Messages?.map((message) => JSON.parse(message.Body!).orderId)).toEqual([answer.orderId]);
  });

  it('refuses a body with a key given twice, naming the key, and stores nothing', async () => {
    const body = '{"clientOrderId":"c-dup","accountId":"acct-7","symbol":"AAPL","side":"buy","orderType":"market","quantity":"1","side":"sell"}';
    const response = await submit(body);
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toEqual({ error: 'invalid_order', problems: [{ field: 'side', rule: 'appears more than once in the body' }] });
    expect(await scanAll(deps.journalTable)).toEqual([]);
  });

  it('finds a repeated key at any depth, and not across objects or inside strings', () => {
    expect(duplicateKey('{"a":1,"b":{"c":1,"c":2}}')).toBe('c');
    expect(duplicateKey('{"a":{"x":1},"b":{"x":1},"s":"\\"a\\":1,\\"a\\""}')).toBeUndefined();
    expect(duplicateKey('[{"a":1},{"a":2}]')).toBeUndefined();
    expect(duplicateKey('{"a\\u0062":1,"ab":2}')).toBe('ab');
  });

  it.each([
    [{ 'Content-Type': 'application/json' }, undefined],
    [{ 'content-type': 'application/json; charset=utf-8' }, undefined],
    [{ 'content-type': 'text/plain' }, 415],
    [{ 'Content-Type': 'application/x-www-form-urlencoded' }, 415],
    [{}, 415],
  ])('answers Content-Type %j with %s', (headers, status) => {
    expect(refuseContentType(headers)?.statusCode).toBe(status);
  });

  it("accepts another account's order under the same client order id as its own order, and says nothing of the first", async () => {
    const first = JSON.parse((await submit(LIMIT_ORDER)).body);
    const other = await submit({ ...LIMIT_ORDER, accountId: 'acct-8' });
    expect(other.statusCode).toBe(201);
    expect(JSON.parse(other.body).orderId).not.toBe(first.orderId);
    const entries = await scanAll(deps.journalTable);
    expect(entries.map((entry) => entry.orderKey).sort()).toEqual([
      `${LIMIT_ORDER.accountId}/${LIMIT_ORDER.clientOrderId}`,
      `acct-8/${LIMIT_ORDER.clientOrderId}`,
    ]);
  });

  it('answers a retry with the first result and stores one order', async () => {
    const first = JSON.parse((await submit(LIMIT_ORDER)).body);
    const retry = await submit(LIMIT_ORDER);
    expect(retry.statusCode).toBe(200);
    expect(JSON.parse(retry.body)).toEqual(first);
    expect(await scanAll(deps.journalTable)).toHaveLength(1);
  });

  it('accepts a quantity given as a JSON number and stores it as exact text', async () => {
    const response = await submit({ ...LIMIT_ORDER, clientOrderId: 'c-num', quantity: 12.5 });
    expect(response.statusCode).toBe(201);
    expect((await scanAll(deps.journalTable))[0]).toMatchObject({ quantity: '12.5' });
  });

  it('refuses the same key for a different order with 409 and keeps the first', async () => {
    const first = JSON.parse((await submit(LIMIT_ORDER)).body);
    const conflicting = await submit({ ...LIMIT_ORDER, quantity: '200' });
    expect(conflicting.statusCode).toBe(409);
    expect(JSON.parse(conflicting.body)).toMatchObject({ error: 'idempotency_key_reused', orderId: first.orderId });
    expect(await scanAll(deps.journalTable)).toEqual([expect.objectContaining({ quantity: '100' })]);
  });

  it.each([
    ['malformed JSON', '{"clientOrderId": "c-1",', 400, '(body)', 'must be valid JSON'],
    ['an empty body', '', 400, '(body)', 'is required: a JSON order'],
    ['a missing field', { ...LIMIT_ORDER, symbol: undefined }, 400, 'symbol', 'is required and must be a string'],
    ['a wrong type', { ...LIMIT_ORDER, side: 7 }, 400, 'side', 'must be "buy" or "sell"'],
    ['a negative quantity', { ...LIMIT_ORDER, quantity: '-5' }, 400, 'quantity', 'must be a decimal with at most 12 integer and 8 fractional digits'],
    ['a zero quantity', { ...LIMIT_ORDER, quantity: 0 }, 400, 'quantity', 'must be greater than 0'],
    ['an unknown side', { ...LIMIT_ORDER, side: 'short' }, 400, 'side', 'must be "buy" or "sell"'],
    ['a limit order without a price', { ...LIMIT_ORDER, limitPrice: undefined }, 400, 'limitPrice', 'is required for a limit order'],
    ['a market order with a price', { ...LIMIT_ORDER, orderType: 'market' }, 400, 'limitPrice', 'must be absent for a market order'],
    ['an unknown field', { ...LIMIT_ORDER, leverage: 10 }, 400, 'leverage', 'is not a field of an order'],
    ['a lower-case symbol', { ...LIMIT_ORDER, symbol: 'aapl' }, 400, 'symbol', 'must be 1-12 upper-case letters, digits or dots, starting with a letter'],
    [
      'a too-long client order id',
      { ...LIMIT_ORDER, clientOrderId: 'x'.repeat(65) },
      400,
      'clientOrderId',
      'must be 1-64 characters of A-Z, a-z, 0-9, ".", "_", ":" or "-"',
    ],
    ['an oversized body', { ...LIMIT_ORDER, padding: 'x'.repeat(5000) }, 413, '(body)', 'must be at most 4096 bytes'],
  ])('answers %s with the field and the rule, and stores nothing', async (_case, body, status, field, rule) => {
    const response = await submit(body);
    expect(response.statusCode).toBe(status);
    expect(JSON.parse(response.body)).toEqual({ error: 'invalid_order', problems: expect.arrayContaining([{ field, rule }]) });
    expect(await scanAll(deps.journalTable)).toEqual([]);
    expect(await queueDepth(deps.queueUrl)).toBe(0);
  });

  it('answers 503 and queues nothing when the journal write fails', async () => {
    const response = await submit(LIMIT_ORDER, { journalTable: 'no-such-table' });
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body)).toMatchObject({ error: 'journal_unavailable' });
    expect(await queueDepth(deps.queueUrl)).toBe(0);
  });

  it('still answers 201 when queueing fails after the order is journaled, leaving it pending', async () => {
    const response = await submit(LIMIT_ORDER, { queueUrl: `${deps.queueUrl}-missing` });
    expect(response.statusCode).toBe(201);
    expect(await scanAll(deps.journalTable)).toEqual([expect.objectContaining({ pendingShard: expect.any(String) })]);
  });
});
