"""Test corpora written by the tests themselves."""

from __future__ import annotations

import json
from pathlib import Path

# A tiny encyclopedia: enough structure for search, links, redirects and the leak guard.
DOCS = [
    ("python", "Python", "Python is a high-level interpreted programming language created by Guido van Rossum "
     "and first released in 1991. It was influenced by ABC and Modula-3.", ["Guido van Rossum", "ABC", "Modula-3"]),
    ("guido", "Guido van Rossum", "Guido van Rossum is a Dutch programmer who created the Python language while "
     "working at CWI in Amsterdam.", ["Python", "CWI", "Amsterdam"]),
    ("abc", "ABC", "ABC is an imperative general-purpose programming language developed at CWI as a teaching "
     "language; it influenced Python.", ["CWI", "Python"]),
    ("cwi", "CWI", "The Centrum Wiskunde & Informatica is the national research institute for mathematics and "
     "computer science in the Netherlands, located in Amsterdam.", ["Amsterdam"]),
    ("amsterdam", "Amsterdam", "Amsterdam is the capital of the Netherlands, known for its canals.", []),
    ("modula3", "Modula-3", "Modula-3 is a programming language conceived as a successor to Modula-2, designed "
     "at DEC and Olivetti.", ["Modula-2"]),
    ("modula2", "Modula-2", "Modula-2 is a structured procedural programming language developed by Niklaus Wirth "
     "at ETH Zurich.", ["Niklaus Wirth", "ETH Zurich"]),
    ("wirth", "Niklaus Wirth", "Niklaus Wirth was a Swiss computer scientist who designed Pascal, Modula-2 and "
     "Oberon, and won the Turing Award in 1984.", ["Pascal", "Modula-2", "Oberon", "Turing Award"]),
    ("pascal", "Pascal", "Pascal is an imperative programming language designed by Niklaus Wirth around 1970 "
     "for teaching structured programming.", ["Niklaus Wirth"]),
    ("oberon", "Oberon", "Oberon is a general-purpose programming language and an operating system, designed "
     "by Niklaus Wirth in 1987.", ["Niklaus Wirth"]),
    ("eth", "ETH Zurich", "ETH Zurich is a public research university in the city of Zurich, Switzerland.", []),
    ("turing", "Turing Award", "The Turing Award is given annually by the ACM for contributions of lasting "
     "importance to computing.", ["ACM"]),
    ("acm", "ACM", "The Association for Computing Machinery is a learned society for computing.", []),
    ("lisp", "Lisp", "Lisp is a family of programming languages with fully parenthesized prefix notation, "
     "specified by John McCarthy in 1958.", ["John McCarthy"]),
    ("mccarthy", "John McCarthy", "John McCarthy was an American computer scientist, one of the founders of "
     "artificial intelligence, and the inventor of Lisp.", ["Lisp"]),
    ("canal", "Canal", "A canal is an artificial waterway built for navigation or drainage; cities such as "
     "Amsterdam and Venice are famous for them.", ["Amsterdam"]),
]


def write_jsonl(path: Path, extra: list[dict] | None = None) -> Path:
    rows = []
    for i, (doc_id, title, text, links) in enumerate(DOCS):
        rows.append({"id": doc_id, "title": title, "text": text, "links": links,
                     "updated_at": f"2024-0{1 + i % 9}-15T10:00:00Z", "categories": ["computing"]})
    rows.append({"id": "py-redirect", "title": "Python (programming language)", "text": "", "redirect": "Python"})
    rows += extra or []
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path
