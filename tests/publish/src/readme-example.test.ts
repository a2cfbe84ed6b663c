import { describe, expect, it } from 'vitest';
import { expectedOutput, extractReadmeExample, missingExampleMessage } from './readme-example';

describe('extractReadmeExample', () => {
  it('should take the first ts/js block whose info string contains "example"', () => {
    const readme = [
      '# pkg',
      '```sh',
      'npm install pkg',
      '```',
      '```ts',
      "import { a } from 'pkg'; // not tagged",
      '```',
      '## Example',
      '```ts example',
      "import { b } from 'pkg';",
      'console.log(b()); // prints: 42',
      '```',
      '```js example',
      'second();',
      '```',
    ].join('\n');
    const example = extractReadmeExample(readme);
    expect(example).toEqual({
      language: 'ts',
      code: "import { b } from 'pkg';\nconsole.log(b()); // prints: 42",
      line: 9,
      expectedOutput: ['42'],
    });
  });

  it('should accept js, longer fences, tildes and extra info words', () => {
    expect(extractReadmeExample('~~~js title="x" example\nrun();\n~~~\n')).toMatchObject({
      language: 'js',
      code: 'run();',
    });
    expect(extractReadmeExample('````typescript example\n```\ninner\n```\n````')).toMatchObject({
      language: 'ts',
      code: '```\ninner\n```',
    });
  });

  it('should skip an example tag inside another block and on non-code blocks', () => {
    const readme = [
      '```md',
      '```ts example',
      '```',
      '```sh example',
      'ls',
      '```',
      '```mjs example',
      'ok();',
      '```',
    ].join('\n');
    // the ```md block closes at line 3 (a bare fence), so "```ts example" is its content; sh is not runnable
    expect(extractReadmeExample(readme)).toMatchObject({ language: 'js', code: 'ok();', line: 7 });
  });

  it('should return undefined when no block is tagged example', () => {
    expect(extractReadmeExample('# x\n```ts\nconst a = 1;\n```\n')).toBeUndefined();
    expect(extractReadmeExample('')).toBeUndefined();
  });

  it('should throw, naming the README and line, for an example block that is never closed', () => {
    expect(() =>
      extractReadmeExample('# x\n\n```ts example\nconst a = 1;\n', 'packages/x/README.md'),
    ).toThrow(/packages\/x\/README\.md:3: .*never closed/);
  });
});

describe('expectedOutput', () => {
  it('should collect the // prints: comments in order, ignoring empty ones', () => {
    expect(expectedOutput('console.log(1); // prints: 1\n// prints:\nlog(); //prints:  a b  \n')).toEqual([
      '1',
      'a b',
    ]);
  });
});

describe('missingExampleMessage', () => {
  it('should say which README lacks the example and how to add one', () => {
    const message = missingExampleMessage('@synth2/vlm', 'packages/vlm/README.md');
    expect(message).toContain('packages/vlm/README.md');
    expect(message).toContain('```ts example');
    expect(message).toContain('## Example');
  });
});
