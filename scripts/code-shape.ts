/**
 * Measures the shape limits the codebase keeps: the longest functions and the
 * largest files under src/. Run: `npx tsx scripts/code-shape.ts [--top N]`.
 *
 * A "function" is any function declaration, method, accessor, constructor,
 * function expression or arrow function; its length is the number of source
 * lines from its first to its last line, comments included. Nested functions
 * count inside their parent too, as a reader sees them.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

export interface FunctionLength {
  file: string;
  name: string;
  line: number;
  lines: number;
}

export interface FileLength {
  file: string;
  lines: number;
}

export function sourceFiles(root: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(root)) {
    const full = path.join(root, entry);
    if (statSync(full).isDirectory()) out.push(...sourceFiles(full));
    else if (entry.endsWith('.ts') && !entry.endsWith('.d.ts')) out.push(full);
  }
  return out.sort();
}

function functionName(node: ts.Node, sf: ts.SourceFile): string {
  const named = node as ts.Node & { name?: ts.Node };
  if (named.name) return named.name.getText(sf);
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) {
    return parent.name.getText(sf);
  }
  if (ts.isCallExpression(parent)) return `<callback of ${parent.expression.getText(sf).slice(0, 40)}>`;
  return '<anonymous>';
}

export function functionLengths(file: string): FunctionLength[] {
  const text = readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out: FunctionLength[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
      out.push({ file, name: functionName(node, sf), line: start + 1, lines: end - start + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

export function fileLength(file: string): FileLength {
  const text = readFileSync(file, 'utf8');
  return { file, lines: text.split('\n').length - (text.endsWith('\n') ? 1 : 0) };
}

function main(): void {
  const topArg = process.argv.indexOf('--top');
  const top = topArg >= 0 ? Number(process.argv[topArg + 1]) : 15;
  const root = path.resolve(__dirname, '..', 'src');
  const files = sourceFiles(root);
  const rel = (f: string): string => path.relative(path.resolve(__dirname, '..'), f);
  const functions = files.flatMap(functionLengths).sort((a, b) => b.lines - a.lines);
  const sizes = files.map(fileLength).sort((a, b) => b.lines - a.lines);
  console.log(`Longest functions under src/ (top ${top}):`);
  for (const f of functions.slice(0, top))
    console.log(`${String(f.lines).padStart(5)}  ${rel(f.file)}:${f.line}  ${f.name}`);
  console.log(`\nLargest files under src/ (top ${top}):`);
  for (const f of sizes.slice(0, top)) console.log(`${String(f.lines).padStart(5)}  ${rel(f.file)}`);
}

if (require.main === module) main();
