"""The JSON Schemas in docs/ against the fixtures and real reports (Debian's python3-jsonschema).

Usage: schema_test.py JUDGEBIAS_BINARY SOURCE_DIR WORK_DIR
Valid records (fixtures, the embedded sample, every importer's output) must pass judgment.schema.json;
records breaking what a schema can express (the bad-input corpus's shape errors) must fail it. Reports
made by the binary (all modules, breakdowns, filters, --compare) and the writers' fixed report must
pass report.schema.json; a report with a metric's value removed must fail it.
"""
import json
import subprocess
import sys

import jsonschema

binary, source, work = sys.argv[1:4]
failures = []


def validator(name):
    with open(f"{source}/docs/{name}") as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


records = validator("judgment.schema.json")
reports = validator("report.schema.json")


def lines(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def expect(valid, v, instance, what):
    errors = list(v.iter_errors(instance))
    if valid and errors:
        failures.append(f"{what}: should be valid: {errors[0].message}")
    if not valid and not errors:
        failures.append(f"{what}: should be invalid")


good = [f"{source}/tests/data/good.jsonl", f"{source}/data/sample.jsonl", f"{source}/tests/data/no_final_newline.jsonl"]
good += [f"{source}/tests/data/import/{n}.expected.jsonl"
         for n in ("fastchat", "fastchat_single", "arena_hard", "alpaca_eval", "judgebench")]
checked = 0
for path in good:
    for k, r in enumerate(lines(path)):
        expect(True, records, r, f"{path}:{k + 1}")
        checked += 1
# Line 2 of each of these bad-input files breaks a shape the schema states.
for name in ("missing_field", "wrong_type", "unknown_verdict", "both_modes", "neither_mode", "prob_outside",
             "negative_length", "not_object"):
    bad = lines(f"{source}/tests/data/bad/{name}.jsonl")[1]
    expect(False, records, bad, f"tests/data/bad/{name}.jsonl:2")

runs = {
    "all": ["run", "--bootstrap", "50"],
    "breakdowns": ["run", "--bootstrap", "0", "--by", "task,run", "--judges", "alpha-7b,delta-api"],
    "compare": ["run", "--bootstrap", "20", "--modules", "position,bandwagon", "--compare", "alpha-7b,delta-api"],
    "skipped": ["run", f"{source}/tests/data/bad/not_json.jsonl", "--skip-invalid", "--bootstrap", "0"],
    "fastchat": ["run", "--from", "fastchat", f"{source}/tests/data/import/fastchat.jsonl", "--bootstrap", "0"],
}
for name, args in runs.items():
    out = f"{work}/{name}.json"
    subprocess.run([binary, *args, "-q", "-o", out], check=True)
    with open(out) as f:
        expect(True, reports, json.load(f), f"report of {name}")
with open(f"{source}/tests/data/report/fixed.json") as f:
    fixed = json.load(f)
expect(True, reports, fixed, "tests/data/report/fixed.json")
del fixed["modules"]["position"]["judges"]["gpt-4o"]["consistency"]["value"]
expect(False, reports, fixed, "fixed.json without a value")

print(f"{checked} records and {len(runs) + 1} reports checked; {len(failures)} failure(s)")
for f in failures:
    print("FAIL", f)
sys.exit(1 if failures else 0)
