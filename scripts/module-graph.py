#!/usr/bin/env python3
"""The module graph of src/: which module imports which, and its cycles.

Reads every `crate::…` path (in `use` trees and inline) of src/**.rs, leaving out comments and
`#[cfg(test)]` code (test modules and test-only files), and draws an edge from the file's module to
the module the path names, at the granularity of top-level modules and their direct submodules
(`checks::crds`, `fix`, `snapshot`). `super::` paths stay inside a module and are not drawn.
Prints the edges, then the cycles (strongly connected components, Tarjan) of the top-level graph
and of the submodule graph; exits 1 when there is a cycle. Python 3 standard library only.

    scripts/module-graph.py [--top] [src-dir]
"""

import os
import re
import sys


def strip_comments(text):
    """Source without comments and string/char literals (kept as empty quotes)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
        elif c == "r" and re.match(r'r#*"', text[i:i + 10]) and not (i and (text[i - 1].isalnum() or text[i - 1] == "_")):
            hashes = re.match(r'r(#*)"', text[i:]).group(1)
            end = text.find('"' + hashes, i + len(hashes) + 2)
            out.append('""')
            i = n if end < 0 else end + 1 + len(hashes)
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append('""')
            i = j + 1
        elif c == "'" and re.match(r"'(\\.|[^\\'])'", text[i:i + 4]) or (c == "'" and text.startswith("'\\", i)):
            m = re.match(r"'(\\u\{[0-9a-fA-F]+\}|\\.|[^\\'])'", text[i:])
            if m:
                out.append("''")
                i += len(m.group(0))
            else:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


CFG_TEST = re.compile(r"#\[cfg\(test\)\]\s*(?:#\[[^\]]*\]\s*)*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*([;{])")


def drop_test_code(code):
    """Code without its #[cfg(test)] inline modules; also the names of test-only `mod x;` files."""
    test_files = []
    while True:
        m = CFG_TEST.search(code)
        if not m:
            return code, test_files
        if m.group(2) == ";":
            test_files.append(m.group(1))
            code = code[: m.start()] + code[m.end():]
            continue
        depth, j = 1, m.end()
        while j < len(code) and depth:
            depth += {"{": 1, "}": -1}.get(code[j], 0)
            j += 1
        code = code[: m.start()] + code[j:]


def expand_use(tree):
    """`crate::{a::X, b::{c, d}}` → ['crate::a::X', 'crate::b::c', 'crate::b::d']."""
    tree = re.sub(r"\s+", "", tree)
    m = re.match(r"^(.*?)\{(.*)\}$", tree)
    if not m:
        return [re.sub(r"as\w+$", "", tree)]
    prefix, inner = m.group(1), m.group(2)
    parts, depth, cur = [], 0, ""
    for ch in inner:
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        depth += {"{": 1, "}": -1}.get(ch, 0)
        cur += ch
    parts.append(cur)
    paths = []
    for p in parts:
        if p and p != "self":
            paths += expand_use(prefix + p)
        elif p == "self":
            paths.append(prefix.rstrip(":"))
    return paths


def module_of(rel):
    """src-relative file path → module path ('' for lib.rs)."""
    parts = rel[:-3].split(os.sep)
    if parts[-1] in ("mod", "lib"):
        parts = parts[:-1]
    return parts


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    src = args[0] if args else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
    src = os.path.normpath(src)
    files = {}
    for root, _, names in os.walk(src):
        for name in names:
            if name.endswith(".rs"):
                path = os.path.join(root, name)
                files[os.path.relpath(path, src)] = open(path, encoding="utf-8").read()

    modules = {tuple(module_of(rel)) for rel in files if rel != "main.rs"}
    test_only = set()
    codes = {}
    for rel, text in files.items():
        code, tests = drop_test_code(strip_comments(text))
        codes[rel] = code
        base = module_of(rel) if rel.endswith(("mod.rs", "lib.rs")) else module_of(rel)[:-1]
        for t in tests:
            test_only.add(tuple(base + [t]))

    def node(path, depth):
        """The module a crate path lands in, cut to `depth` segments."""
        segs = path.split("::")[1:]
        known = []
        for s in segs:
            if tuple(known + [s]) in modules:
                known.append(s)
            else:
                break
        return "::".join(known[:depth]) if known else "(crate root)"

    edges = {1: {}, 2: {}}
    for rel, code in sorted(codes.items()):
        mod = tuple(module_of(rel))
        if any(mod[: len(t)] == t for t in test_only):
            continue
        origin = "main" if rel == "main.rs" else None
        paths = []
        for m in re.finditer(r"\buse\s+((?:crate|llmd)::[^;]*);", code):
            paths += expand_use(m.group(1))
        paths += re.findall(r"\b(?:crate|llmd)::(?:\w+::)*\w+", re.sub(r"\buse\s+(?:crate|llmd)::[^;]*;", "", code))
        for p in paths:
            p = re.sub(r"^llmd::", "crate::", p)
            for depth in (1, 2):
                src_node = origin or "::".join(mod[:depth]) or "(crate root)"
                dst = node(p, depth)
                if dst == "(crate root)" or dst == src_node:
                    continue
                if depth == 1 and dst == src_node.split("::")[0]:
                    continue
                edges[depth].setdefault(src_node, {}).setdefault(dst, 0)
                edges[depth][src_node][dst] += 1

    cyclic = False
    for depth, title in ((1, "top-level modules"), (2, "modules and their direct submodules")):
        if "--top" in sys.argv and depth == 2:
            break
        graph = edges[depth]
        print(f"## edges between {title} (uses of crate:: paths)")
        for a in sorted(graph):
            print(f"{a} -> " + ", ".join(f"{b} ({n})" for b, n in sorted(graph[a].items())))
        sccs = [c for c in tarjan(graph) if len(c) > 1]
        print(f"## cycles between {title}: {len(sccs)}")
        for c in sccs:
            members = sorted(c)
            print("  " + " <-> ".join(members))
            for a in members:
                for b in sorted(graph.get(a, {})):
                    if b in c:
                        print(f"    {a} -> {b}")
        cyclic = cyclic or bool(sccs)
        print()
    return 1 if cyclic else 0


def tarjan(graph):
    """Strongly connected components (iterative Tarjan)."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]
    nodes = set(graph) | {b for bs in graph.values() for b in bs}
    for root in sorted(nodes):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, {}))))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            advanced = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph.get(w, {})))))
                    advanced = True
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = set()
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.add(w)
                    if w == v:
                        break
                out.append(comp)
    return out


if __name__ == "__main__":
    sys.exit(main())
