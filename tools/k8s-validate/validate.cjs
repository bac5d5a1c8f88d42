// SPDX-License-Identifier: GPL-2.0-or-later
// validate.cjs MANIFEST_DIR VERSION UNIT_FILE: checks every *.yaml of MANIFEST_DIR
//  - as YAML, strictly (the "yaml" package: duplicate keys, tabs, anything it warns about);
//  - against the Kubernetes API's own schema for its apiVersion and kind (kubernetes-models,
//    generated from the API's OpenAPI document), and for fields the schema does not know:
//    the generated validators skip those, so every field the validator never looked at is
//    reported (a "hostPid" for hostPID is such a typo, and the API server would drop it);
//  - against what ubinfmt's node agent must be (lint): images pinned to VERSION, requests and
//    a memory limit, capabilities dropped, the daemon's capabilities exactly the systemd
//    unit's bounding set (UNIT_FILE), no privileged mode, a rule of the API server that the
//    schema cannot say (no allowPrivilegeEscalation: false with CAP_SYS_ADMIN), volumes and
//    mounts that match, the RuntimeClass's handler.
// Prints one line per finding ("FILE: document N (KIND NAME): what"), then a summary; exits 1
// when there is any.
"use strict";

const fs = require("fs");
const path = require("path");
const YAML = require("yaml");

const [dir, version, unitFile] = process.argv.slice(2);
if (!dir || !version || !unitFile) {
	console.error("usage: validate.cjs MANIFEST_DIR VERSION UNIT_FILE");
	process.exit(2);
}
const schemas = path.join(__dirname, "node_modules", "kubernetes-models", "_schemas");
const findings = [];
let checked = 0;

function find(where, what) {
	findings.push(`${where}: ${what}`);
}

// "apps/v1" + "DaemonSet" -> IoK8sApiAppsV1DaemonSet; "v1" is the core group.
function schemaName(apiVersion, kind) {
	const [group, ver] = apiVersion.includes("/") ? apiVersion.split("/") : ["core", apiVersion];
	const cap = (s) => s.charAt(0).toUpperCase() + s.slice(1);
	return `IoK8sApi${cap(group.split(".")[0])}${cap(ver)}${kind}`;
}

// A proxy that records which fields of each object the validator reads.  An object whose keys
// it enumerates (a map: labels, annotations, nodeSelector) counts as wholly read.
function watch(value, where, seen) {
	if (value === null || typeof value !== "object") return value;
	const rec = { where, obj: value, read: new Set(), all: false };
	seen.push(rec);
	const children = new Map();
	return new Proxy(value, {
		get(target, key, receiver) {
			if (typeof key === "string") rec.read.add(key);
			const v = Reflect.get(target, key, receiver);
			if (typeof key !== "string" || v === null || typeof v !== "object") return v;
			if (!children.has(key)) children.set(key, watch(v, `${where}/${key}`, seen));
			return children.get(key);
		},
		has(target, key) {
			if (typeof key === "string") rec.read.add(key);
			return Reflect.has(target, key);
		},
		ownKeys(target) {
			rec.all = true;
			return Reflect.ownKeys(target);
		},
	});
}

// The generated validators carry no messages: say what an error's keyword and params mean.
function describe(e) {
	const p = e.params || {};
	switch (e.keyword) {
	case "type":
		return `must be ${p.type}`;
	case "required":
		return `must have ${p.missingProperty}`;
	case "enum":
		return `must be one of ${(p.allowedValues || []).join(", ")}`;
	case "format":
		return `must be a ${p.format}`;
	default:
		return e.message || `${e.keyword} ${JSON.stringify(p)}`;
	}
}

function validateSchema(where, doc) {
	const file = path.join(schemas, `${schemaName(doc.apiVersion, doc.kind)}.js`);
	if (!fs.existsSync(file)) {
		find(where, `no Kubernetes schema for apiVersion ${doc.apiVersion}, kind ${doc.kind}`);
		return;
	}
	const { validate } = require(file);
	const seen = [];
	if (!validate(watch(doc, "", seen))) {
		for (const e of validate.errors) find(where, `schema: ${e.instancePath || "/"} ${describe(e)}`);
		return;
	}
	for (const rec of seen) {
		if (rec.all || Array.isArray(rec.obj)) continue;
		for (const key of Object.keys(rec.obj))
			if (!rec.read.has(key)) find(where, `schema: ${rec.where}/${key} is not a field of the API`);
	}
}

// The capabilities of the systemd unit's bounding set, without their CAP_ prefix.
function unitCapabilities() {
	const line = fs.readFileSync(unitFile, "utf8").split("\n").find((l) => l.startsWith("CapabilityBoundingSet="));
	return line ? line.slice(line.indexOf("=") + 1).trim().split(/\s+/).map((c) => c.replace(/^CAP_/, "")) : [];
}

function lintContainer(where, c, isDaemon) {
	const at = `${where} container ${c.name}`;
	const sc = c.securityContext || {};
	const caps = sc.capabilities || {};
	if (!/^[^:@]+(:[^:@]+|@sha256:[0-9a-f]{64})$/.test(c.image || "") || /:latest$/.test(c.image))
		find(at, `image ${c.image} is not pinned to a tag or digest`);
	if (/^localhost\/ubinfmt:/.test(c.image) && c.image !== `localhost/ubinfmt:${version}`)
		find(at, `image ${c.image}: this is ubinfmt ${version}`);
	const res = c.resources || {};
	if (!res.requests || !res.requests.cpu || !res.requests.memory) find(at, "no cpu and memory requests");
	if (!res.limits || !res.limits.memory) find(at, "no memory limit");
	if (!(caps.drop || []).includes("ALL")) find(at, "capabilities are not dropped (drop: [ALL])");
	if (sc.privileged) find(at, "privileged: ubinfmt needs a few capabilities, not all of them");
	if (sc.allowPrivilegeEscalation === false && (caps.add || []).some((a) => a.replace(/^CAP_/, "") === "SYS_ADMIN"))
		find(at, "allowPrivilegeEscalation: false with CAP_SYS_ADMIN: the API server refuses that");
	if (isDaemon) {
		const want = unitCapabilities().sort().join(" ");
		const got = (caps.add || []).map((a) => a.replace(/^CAP_/, "")).sort().join(" ");
		if (!want) find(at, `no CapabilityBoundingSet= in ${unitFile}`);
		else if (want !== got) find(at, `capabilities ${got}: ubinfmtd needs exactly ${want} (the systemd unit's)`);
		if ((sc.seccompProfile || {}).type !== "Unconfined" || (sc.appArmorProfile || {}).type !== "Unconfined")
			find(at, "ubinfmtd needs seccomp and AppArmor Unconfined (ptrace, io_uring, open_tree)");
		const run = (c.volumeMounts || []).find((m) => m.mountPath === "/run/ubinfmt");
		if (!run) find(at, "ubinfmtd's sockets (/run/ubinfmt) are not mounted");
	} else if (sc.allowPrivilegeEscalation !== false) {
		find(at, "allowPrivilegeEscalation is not false");
	}
}

function lintPodSpec(where, spec, isDaemonSet) {
	const containers = [...(spec.initContainers || []), ...(spec.containers || [])];
	const volumes = new Map((spec.volumes || []).map((v) => [v.name, v]));
	const used = new Set();
	if (spec.automountServiceAccountToken !== false) find(where, "automountServiceAccountToken is not false");
	if (spec.hostNetwork || spec.hostIPC) find(where, "hostNetwork or hostIPC: ubinfmt needs neither");
	for (const c of containers) {
		lintContainer(where, c, isDaemonSet && c.name === "ubinfmtd");
		for (const m of c.volumeMounts || []) {
			used.add(m.name);
			if (!volumes.has(m.name)) find(where, `container ${c.name} mounts ${m.name}, which is not a volume`);
		}
	}
	for (const name of volumes.keys()) if (!used.has(name)) find(where, `volume ${name} is mounted nowhere`);
	if (isDaemonSet) {
		if (!spec.hostPID) find(where, "no hostPID: ubinfmtd must see the containers' tasks by the pids runc sends");
		if (!containers.some((c) => c.name === "ubinfmtd")) find(where, "no container named ubinfmtd");
		const run = volumes.get("run");
		if (!run || !run.hostPath || run.hostPath.path !== "/run/ubinfmt")
			find(where, "the volume run is not the node's /run/ubinfmt (hostPath)");
		if ((spec.nodeSelector || {})["kubernetes.io/arch"] !== "amd64")
			find(where, "not limited to amd64 nodes (ubinfmt runs on x86-64 hosts only)");
	}
}

function lint(where, doc) {
	const meta = doc.metadata || {};
	if (!meta.name) find(where, "no metadata.name");
	if (!(meta.labels || {})["app.kubernetes.io/name"]) find(where, "no app.kubernetes.io/name label");
	switch (doc.kind) {
	case "DaemonSet":
		if (meta.namespace !== "ubinfmt-system") find(where, "not in the namespace ubinfmt-system");
		lintPodSpec(where, doc.spec.template.spec, true);
		break;
	case "Pod":
		lintPodSpec(where, doc.spec, false);
		if (doc.spec.runtimeClassName !== "ubinfmt") find(where, "an example pod without runtimeClassName: ubinfmt");
		break;
	case "RuntimeClass":
		if (meta.name !== "ubinfmt" || doc.handler !== "ubinfmt") find(where, "the RuntimeClass and its handler are not both ubinfmt");
		break;
	case "Namespace":
		if ((meta.labels || {})["pod-security.kubernetes.io/enforce"] !== "privileged")
			find(where, "the namespace does not allow the DaemonSet's pods (pod-security privileged)");
		break;
	default:
		find(where, `a kind this check does not know: ${doc.kind}`);
	}
}

function kustomization(where, doc) {
	for (const r of doc.resources || [])
		if (!fs.existsSync(path.join(dir, r))) find(where, `resource ${r} does not exist`);
	const yamls = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f) && f !== "kustomization.yaml" && !/^example-/.test(f));
	for (const f of yamls) if (!(doc.resources || []).includes(f)) find(where, `${f} is not among its resources`);
}

for (const file of fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort()) {
	const text = fs.readFileSync(path.join(dir, file), "utf8");
	if (/\t/.test(text)) find(file, "a tab character");
	const docs = YAML.parseAllDocuments(text, { uniqueKeys: true, strict: true, prettyErrors: true });
	docs.forEach((d, i) => {
		const where0 = `${file}: document ${i + 1}`;
		for (const e of [...d.errors, ...d.warnings]) find(where0, `YAML: ${e.message.split("\n")[0]}`);
		if (d.errors.length) return;
		const doc = d.toJS();
		if (!doc) return;
		checked++;
		const where = `${where0} (${doc.kind} ${(doc.metadata || {}).name || "?"})`;
		if (doc.kind === "Kustomization") kustomization(where, doc);
		else {
			validateSchema(where, doc);
			lint(where, doc);
		}
	});
}
for (const f of findings) console.log(f);
console.log(`${checked} documents checked, ${findings.length} findings`);
process.exit(findings.length || !checked ? 1 : 0);
