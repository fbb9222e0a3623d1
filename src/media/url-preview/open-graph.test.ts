import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeHtml, parseOpenGraph } from './open-graph.ts';

const page = new URL('https://example.org/blog/post.html');

test('og: meta tags are taken as given, width and height as numbers, the image made absolute', () => {
  const html = `<!doctype html><html><head>
    <meta property="og:title" content="Matrix &amp; friends">
    <meta property='og:description' content='A "really" cool post'>
    <meta property="og:image" content="/img/cover.png">
    <meta property="og:image:width" content="48"><meta property="og:image:height" content="oops">
    <title>ignored because og:title exists</title></head><body></body></html>`;
  assert.deepEqual(parseOpenGraph(html, page), {
    'og:title': 'Matrix & friends',
    'og:description': 'A "really" cool post',
    'og:image': 'https://example.org/img/cover.png',
    'og:image:width': 48,
  });
});

test('without og: tags, <title>, meta description and the first <img> stand in', () => {
  const html = '<html><head><title>  Plain\n page </title><meta name="description" content="About &#x2603; snow"></head><body><img src="pic.jpg"><img src="second.jpg"></body>';
  assert.deepEqual(parseOpenGraph(html, page), {
    'og:title': 'Plain page',
    'og:description': 'About ☃ snow',
    'og:image': 'https://example.org/blog/pic.jpg',
  });
});

test('images that are not http(s) are dropped, values are bounded and stripped of markup', () => {
  const long = 'x'.repeat(5000);
  const html = `<meta property="og:image" content="javascript:alert(1)"><meta property="og:title" content="<b>bold</b>\u0007${long}">`;
  const og = parseOpenGraph(html, page);
  assert.equal(og['og:image'], undefined);
  assert.ok(String(og['og:title']).startsWith('bold x'));
  assert.ok(String(og['og:title']).length <= 1000);
});

test('broken markup never throws and yields what can be read', () => {
  assert.deepEqual(parseOpenGraph('<meta property="og:title" content="unterminated', page), {});
  assert.deepEqual(parseOpenGraph('<title>no end', page), {});
  assert.deepEqual(parseOpenGraph('', page), {});
});

test('decodeHtml follows the header charset, then <meta charset>, then UTF-8', () => {
  const latin1 = Uint8Array.from([0x3c, 0x74, 0x3e, 0xe9, 0x3c]); // "<t>é<" in ISO-8859-1
  assert.equal(decodeHtml(latin1, 'text/html; charset=ISO-8859-1'), '<t>é<');
  const withMeta = new TextEncoder().encode('<meta charset="windows-1252">');
  assert.equal(decodeHtml(Uint8Array.from([...withMeta, 0x80]), 'text/html'), '<meta charset="windows-1252">€');
  assert.equal(decodeHtml(new TextEncoder().encode('héllo'), 'text/html; charset=bogus'), 'héllo');
});
