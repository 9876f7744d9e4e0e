// Queue addresses: redis://[user:pass@]host[:port][/db]/NAME, and one clear error for each malformed form.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseQueueUrl } from '../../src/queue/url.js';
import { InvalidArgumentError } from '../../src/errors.js';

test('queue URLs give host, port (default 6379), database, credentials and queue name', () => {
  const a = parseQueueUrl('redis://10.0.0.5:6390/poses');
  assert.deepEqual([a.host, a.port, a.db, a.name, a.tls, a.display], ['10.0.0.5', 6390, 0, 'poses', false, 'redis://10.0.0.5:6390/poses']);
  const b = parseQueueUrl('rediss://me:s%40cret@cache.example:7000/3/sports-2024');
  assert.deepEqual([b.host, b.port, b.db, b.name, b.tls, b.username, b.password], ['cache.example', 7000, 3, 'sports-2024', true, 'me', 's@cret']);
  assert.equal(b.display, 'rediss://cache.example:7000/3/sports-2024', 'no password in messages');
  assert.equal(parseQueueUrl('redis://localhost/q').port, 6379);
});

test('malformed queue URLs are InvalidArgumentErrors that say what was expected', () => {
  const cases: [string, RegExp][] = [
    ['localhost:6379/q', /scheme must be redis/],
    ['not a url', /not a URL/],
    ['http://localhost:6379/q', /scheme must be redis: or rediss:, not http:/],
    ['redis://localhost:6379', /names no queue/],
    ['redis://localhost:6379/', /names no queue/],
    ['redis://localhost:6379/a/b/c', /names no queue/],
    ['redis://localhost:6379/x/q', /database 'x' must be a number/],
    ['redis://localhost:6379/q?x=1', /query or fragment/],
    ['redis://localhost:99999/q', /not a URL/],
    ['redis://localhost/bad:name', /queue name 'bad:name'/],
  ];
  for (const [spec, message] of cases) {
    assert.throws(() => parseQueueUrl(spec), (err: unknown) => err instanceof InvalidArgumentError && message.test(err.message) && err.message.includes('expected redis://') === !/queue name/.test(err.message), spec);
  }
});
