package org.shadowbox.web.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;
import java.util.regex.Pattern;

import org.shadowbox.command.Json;
import org.shadowbox.mmu.Mmu;
import org.shadowbox.vm.Hypervisor;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;

/**
 * The JSON API, one endpoint per view; each answers with what the shell command of that view
 * returns with {@code --json} (see docs/web.md for the list). Unknown VMs, gfns, runs and
 * result files are 404s, malformed parameters 400s; every error is one line of JSON.
 */
final class Api {
    static final Pattern VM_NAME = Pattern.compile("[A-Za-z0-9_.-]{1,32}");
    static final Pattern RESULT_FILE = Pattern.compile("compare-[A-Za-z0-9_.-]{1,200}\\.json");
    static final Pattern MODE = Pattern.compile("write|access");

    /** A response: status, JSON body. */
    record Reply(int status, String json) {
        static Reply ok(String json) {
            return new Reply(200, json);
        }
    }

    private final Shell shell;
    private final Hypervisor hypervisor;
    private final Supplier<Mmu> mmu;
    private final Supplier<Access> access;
    private final Path results;

    Api(Shell shell, Hypervisor hypervisor, Supplier<Mmu> mmu, Supplier<Access> access, Path results) {
        this.shell = shell;
        this.hypervisor = hypervisor;
        this.mmu = mmu;
        this.access = access;
        this.results = results;
    }

    /** {"error": message} on one line. */
    static String error(String message) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("error", message);
        return Json.encode(m, false);
    }

    /**
     * Answers one request below {@code /api}.
     *
     * @param segments the path below {@code /api}, split at '/'
     * @param token    the {@link Access#TOKEN_HEADER} header, or null
     */
    Reply handle(String method, List<String> segments, Map<String, String> query, String body, String token) {
        boolean get = method.equals("GET") || method.equals("HEAD");
        int n = segments.size();
        String first = n == 0 ? "" : segments.get(0);
        if (get) {
            return read(first, segments, query);
        }
        if (method.equals("POST") || method.equals("DELETE")) {
            access.get().checkChange(token);
            return change(method, segments, body);
        }
        throw new HttpError(405, "method " + method + " not allowed: accepted GET, and POST or DELETE for changes");
    }

    private Reply read(String first, List<String> s, Map<String, String> query) {
        int n = s.size();
        switch (first) {
            case "":
                return Reply.ok(index());
            case "status":
                return Reply.ok(status());
            case "vms":
                if (n == 1) {
                    return Reply.ok(shell.json("vm:list", "--json"));
                }
                return vm(s);
            case "plugins":
                if (n == 1) {
                    return Reply.ok(shell.json("plugin:list", "--json"));
                }
                break;
            case "scenarios":
                if (n == 1) {
                    return Reply.ok(shell.json("run:list", "--json"));
                }
                break;
            case "runs":
                if (n == 1) {
                    return Reply.ok(shell.json("run:jobs", "--json"));
                }
                if (n == 2) {
                    return Reply.ok(run(s.get(1)));
                }
                break;
            case "compare":
                if (n == 1) {
                    return Reply.ok(compareList());
                }
                if (n == 2) {
                    return Reply.ok(compareFile(s.get(1)));
                }
                break;
            default:
                break;
        }
        throw HttpError.notFound("no endpoint GET /api/" + String.join("/", s) + "; GET /api lists them");
    }

    private Reply vm(List<String> s) {
        Vm v = vm(s.get(1));
        String name = v.name();
        if (s.size() == 2) {
            return Reply.ok(shell.json("vm:info", "--json", name));
        }
        String what = s.get(2);
        if (s.size() == 3) {
            switch (what) {
                case "slots": return Reply.ok(shell.json("slot:list", "--json", name));
                case "cpus": return Reply.ok(shell.json("cpu:show", "--json", name));
                case "tracks": return Reply.ok(shell.json("track:list", "--json", name));
                case "notifiers": return Reply.ok(shell.json("track:notifiers", "--json", name));
                case "shadow-pages": return Reply.ok(shell.json("mmu:pages", "--json", name));
                case "shadow-tree": return Reply.ok(shadowTree(v));
                case "mmu-stats": return Reply.ok(shell.json("mmu:stats", "--json", name));
                case "flood-stats": return Reply.ok(shell.json("flood:stats", "--json", name));
                default: break;
            }
        }
        if (s.size() == 4 && what.equals("gfns")) {
            return Reply.ok(gfn(v, s.get(3)));
        }
        throw HttpError.notFound("no endpoint GET /api/" + String.join("/", s) + "; GET /api lists them");
    }

    /** The VM of that name, 400 for a malformed name, 404 for one that does not exist. */
    Vm vm(String name) {
        if (!VM_NAME.matcher(name).matches()) {
            throw HttpError.badRequest("bad VM name '" + name + "': accepted 1 to 32 of A-Z a-z 0-9 _ . -");
        }
        return hypervisor.vm(name).orElseThrow(() -> HttpError.notFound("no VM named '" + name + "': accepted "
                + String.join(", ", hypervisor.vms().stream().map(Vm::name).toList())));
    }

    /** {"pages": mmu:pages --json, "links": the tree's edges}; pages and links are read one after the other. */
    private String shadowTree(Vm v) {
        String pages = shell.json("mmu:pages", "--json", v.name());
        Mmu m = mmu.get();
        if (m == null) {
            throw new HttpError(503, "the MMU is unavailable: the org.shadowbox.mmu bundle is not active");
        }
        List<Mmu.Link> edges;
        try {
            edges = m.shadowLinks(v);
        } catch (VmException e) {
            throw HttpError.badRequest(Shell.oneLine(e.getMessage()));
        }
        List<Object> links = new ArrayList<>();
        for (Mmu.Link l : edges) {
            links.add(List.of((long) l.parent(), (long) l.index(), (long) l.child()));
        }
        return "{\"vm\":" + Json.encode(v.name(), false) + ",\"pages\":" + pages + ",\"links\":"
                + Json.encode(links, false) + "}";
    }

    /** One gfn: its slot, its tracks and the shadow pages of it. */
    private String gfn(Vm v, String text) {
        long gfn = number("gfn", text);
        var slot = v.slotForGfn(gfn);
        if (slot == null) {
            throw HttpError.notFound("gfn 0x" + Long.toHexString(gfn) + " is in no memslot of VM " + v.name()
                    + ": accepted the gfns slot:list shows");
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("vm", v.name());
        m.put("gfn", gfn);
        m.put("slot", first(ShellJson.rows(shell.json("slot:list", "--json", v.name())), "id", (long) slot.id()));
        m.put("tracks", filter(ShellJson.rows(shell.json("track:list", "--json", v.name())), "gfn", gfn));
        m.put("shadowPages", filter(ShellJson.rows(shell.json("mmu:pages", "--json", v.name())), "gfn", gfn));
        return Json.encode(m, false);
    }

    private static List<Map<String, Object>> filter(List<Map<String, Object>> rows, String key, long value) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Map<String, Object> r : rows) {
            if (r.get(key) instanceof Long l && l == value) {
                out.add(r);
            }
        }
        return out;
    }

    private static Map<String, Object> first(List<Map<String, Object>> rows, String key, long value) {
        List<Map<String, Object>> f = filter(rows, key, value);
        return f.isEmpty() ? null : f.get(0);
    }

    /** A background run: its run:jobs row and, once it has ended, its run:report. */
    private String run(String text) {
        long id = number("run id", text);
        for (Map<String, Object> row : ShellJson.rows(shell.json("run:jobs", "--json"))) {
            if (row.get("id") instanceof Long l && l == id) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("job", row);
                if ("done".equals(row.get("state"))) {
                    m.put("report", ShellJson.parse(shell.json("run:report", "--json", Long.toString(id))));
                }
                return Json.encode(m, false);
            }
        }
        throw HttpError.notFound("no background run " + id + ": GET /api/runs lists them");
    }

    private String compareList() {
        List<Object> out = new ArrayList<>();
        if (results != null && Files.isDirectory(results)) {
            List<Path> files = new ArrayList<>();
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(results, "compare-*.json")) {
                ds.forEach(files::add);
            } catch (IOException e) {
                throw new HttpError(500, "cannot list " + results + ": " + e.getMessage());
            }
            files.sort((a, b) -> Long.compare(modified(b), modified(a)));
            for (Path p : files) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("name", p.getFileName().toString());
                m.put("modified", modified(p));
                out.add(m);
            }
        }
        return Json.encode(out, false);
    }

    private static long modified(Path p) {
        try {
            return Files.getLastModifiedTime(p).toMillis();
        } catch (IOException e) {
            return 0;
        }
    }

    private String compareFile(String name) {
        if (!RESULT_FILE.matcher(name).matches()) {
            throw HttpError.badRequest("bad result name '" + name + "': accepted compare-....json as GET /api/compare"
                    + " lists them");
        }
        Path p = results == null ? null : results.resolve(name);
        if (p == null || !Files.isRegularFile(p)) {
            throw HttpError.notFound("no result " + name + ": GET /api/compare lists them (run:compare writes them)");
        }
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new HttpError(500, "cannot read " + name + ": " + e.getMessage());
        }
    }

    // ---- changes (web.allowChanges and the token) ----

    private Reply change(String method, List<String> s, String body) {
        int n = s.size();
        if (method.equals("POST") && n == 1 && s.get(0).equals("runs")) {
            Map<String, Object> b = body(body);
            Vm v = vm(text(b, "vm", true));
            List<String> args = new ArrayList<>(List.of("--background", "--json"));
            for (String opt : List.of("scale", "seed", "threads")) {
                String val = text(b, opt, false);
                if (val != null) {
                    args.add("--" + opt);
                    args.add(val);
                }
            }
            args.add(v.name());
            args.add(text(b, "scenario", true));
            return new Reply(201, shell.json("run:scenario", args.toArray(String[]::new)));
        }
        if (method.equals("POST") && n == 3 && s.get(0).equals("runs") && s.get(2).equals("stop")) {
            long id = number("run id", s.get(1));
            run(Long.toString(id)); // 404 for an unknown run
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("result", shell.json("run:stop", Long.toString(id)));
            return Reply.ok(Json.encode(m, false));
        }
        if (n == 3 && s.get(0).equals("vms") && s.get(2).equals("tracks")) {
            Vm v = vm(s.get(1));
            Map<String, Object> b = body(body);
            String gfn = text(b, "gfn", true);
            String mode = Objects.requireNonNullElse(text(b, "mode", false), "write");
            if (!MODE.matcher(mode).matches()) {
                throw HttpError.badRequest("bad mode '" + mode + "': accepted write or access");
            }
            long g = number("gfn", gfn);
            if (v.slotForGfn(g) == null) {
                throw HttpError.notFound("gfn 0x" + Long.toHexString(g) + " is in no memslot of VM " + v.name());
            }
            String cmd = method.equals("POST") ? "track:add" : "track:remove";
            return Reply.ok(shell.json(cmd, "--json", "--mode", mode, v.name(), "0x" + Long.toHexString(g)));
        }
        throw HttpError.notFound("no endpoint " + method + " /api/" + String.join("/", s)
                + "; accepted POST /api/runs, POST /api/runs/ID/stop, POST or DELETE /api/vms/VM/tracks");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> body(String body) {
        Object v;
        try {
            v = ShellJson.parse(body == null || body.isBlank() ? "{}" : body);
        } catch (IllegalArgumentException e) {
            throw HttpError.badRequest("the body is not JSON (" + e.getMessage() + "): accepted one JSON object");
        }
        if (!(v instanceof Map)) {
            throw HttpError.badRequest("the body is not a JSON object: accepted {\"name\": value, ...}");
        }
        return (Map<String, Object>) v;
    }

    private static String text(Map<String, Object> body, String key, boolean required) {
        Object v = body.get(key);
        if (v == null) {
            if (required) {
                throw HttpError.badRequest("missing \"" + key + "\" in the body");
            }
            return null;
        }
        if (!(v instanceof String) && !(v instanceof Long)) {
            throw HttpError.badRequest("bad \"" + key + "\": accepted a string or an integer");
        }
        return v.toString();
    }

    /** 0x hex or decimal, not negative; 400 otherwise. */
    static long number(String what, String text) {
        String t = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
        try {
            long v = t.startsWith("0x") ? Long.parseUnsignedLong(t.substring(2), 16) : Long.parseLong(t);
            if (v >= 0) {
                return v;
            }
        } catch (NumberFormatException e) {
            // falls through to the one-line error
        }
        throw HttpError.badRequest("bad " + what + " '" + text + "': accepted a number, 0x hex or decimal");
    }

    private String status() {
        Access a = access.get();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("mode", a.allowChanges() ? "changes" : "read-only");
        m.put("description", a.mode());
        return Json.encode(m, false);
    }

    private static String index() {
        List<String> eps = List.of("GET /api/status", "GET /api/vms", "GET /api/vms/VM", "GET /api/vms/VM/slots",
                "GET /api/vms/VM/cpus", "GET /api/vms/VM/tracks", "GET /api/vms/VM/notifiers",
                "GET /api/vms/VM/shadow-pages", "GET /api/vms/VM/shadow-tree", "GET /api/vms/VM/mmu-stats",
                "GET /api/vms/VM/flood-stats", "GET /api/vms/VM/gfns/GFN", "GET /api/plugins", "GET /api/scenarios",
                "GET /api/runs", "GET /api/runs/ID", "GET /api/compare", "GET /api/compare/NAME",
                "GET /api/events?vm=VM (text/event-stream)", "POST /api/runs", "POST /api/runs/ID/stop",
                "POST /api/vms/VM/tracks", "DELETE /api/vms/VM/tracks");
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("endpoints", new ArrayList<Object>(eps));
        return Json.encode(m, false);
    }
}
