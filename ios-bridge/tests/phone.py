"""The phone's path, end to end, through the generated Python bindings.

Run by tests/bindings.rs, which generates the bindings, starts a real `vibemesh agent`
on 127.0.0.1 and passes:
  VM_BINDINGS        folder with vibemesh_ios.py and libvibemesh_ios.so
  VM_TICKET          a fresh pairing ticket
  VM_EXPIRED_TICKET  a ticket that expired (`vibemesh pair --ttl 1s`, a second later)
  VM_WORK            a temporary folder (the phone's folder, the session's cwd)

Standard library only. Every wait is event-driven (listeners set conditions); the
timeout only turns a hang into a failure that shows the screen.
"""

import asyncio
import os
import subprocess
import sys
import threading
import traceback

sys.path.insert(0, os.environ["VM_BINDINGS"])
import vibemesh_ios as vm  # noqa: E402

TIMEOUT = 30.0
SHELL = ["bash", "--norc", "--noprofile"]

passed = 0
failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name}: {detail}")
    sys.stdout.flush()


class Waiter:
    """A condition the listeners poke; `until` waits (off the event loop) for a test."""

    def __init__(self):
        self.cond = threading.Condition()

    def poke(self):
        with self.cond:
            self.cond.notify_all()

    async def until(self, pred):
        def wait():
            with self.cond:
                return self.cond.wait_for(pred, TIMEOUT)

        return await asyncio.to_thread(wait)


class Screen(vm.ScreenListener):
    def __init__(self):
        self.waiter = Waiter()
        self.output = bytearray()
        self.exit_codes = []
        self.closed = []
        self.lock = threading.Lock()

    def on_output(self, data):
        with self.lock:
            self.output.extend(data)

    def on_screen_changed(self):
        self.waiter.poke()

    def on_exit(self, code):
        self.exit_codes.append(code)
        self.waiter.poke()

    def on_closed(self, error):
        self.closed.append(error)
        self.waiter.poke()


class Sessions(vm.SessionsListener):
    def __init__(self):
        self.waiter = Waiter()
        self.events = []
        self.lock = threading.Lock()

    def _add(self, ev):
        with self.lock:
            self.events.append(ev)
        self.waiter.poke()

    def on_sessions(self, sessions):
        self._add(("list", sessions))

    def on_created(self, session):
        self._add(("created", session))

    def on_updated(self, session):
        self._add(("updated", session))

    def on_removed(self, session_id):
        self._add(("removed", session_id))

    def on_offline(self, reason):
        self._add(("offline", reason))

    def seen(self, pred):
        with self.lock:
            return any(pred(kind, x) for kind, x in self.events)


def lines(handle):
    return [line.rstrip() for line in handle.screen_text().split("\n")]


async def expect_error(name, kind, coro):
    try:
        await coro
        check(name, False, f"expected MeshError.{kind.__name__}, got success")
    except kind as e:
        check(name, isinstance(e, vm.MeshError) and len(str(e)) > 0, repr(e))
    except Exception as e:  # noqa: BLE001
        check(name, False, f"expected MeshError.{kind.__name__}, got {e!r}")


async def main():
    work = os.environ["VM_WORK"]
    phone_dir = os.path.join(work, "phone")
    cwd = os.path.join(work, "project")
    os.makedirs(cwd, exist_ok=True)

    mesh = await vm.Mesh.open(phone_dir, "phone", "none", "127.0.0.1:0")
    check("open: identity created", os.path.exists(os.path.join(phone_dir, "key")))
    check("open: no machines yet", mesh.machines() == [], repr(mesh.machines()))

    await expect_error(
        "expired ticket is MeshError.TicketExpired",
        vm.MeshError.TicketExpired,
        mesh.pair(os.environ["VM_EXPIRED_TICKET"]),
    )
    await expect_error(
        "garbage ticket is MeshError.TicketInvalid",
        vm.MeshError.TicketInvalid,
        mesh.pair("hello"),
    )

    machine = await mesh.pair(os.environ["VM_TICKET"])
    check("pair", machine.role == vm.MachineRole.OWNER, repr(machine))
    name = machine.name
    check("machines() lists it", [m.name for m in mesh.machines()] == [name])
    check(
        "machines.json written",
        os.path.exists(os.path.join(phone_dir, "machines.json")),
    )
    await expect_error(
        "a used ticket is MeshError.TicketUsed",
        vm.MeshError.TicketUsed,
        mesh.pair(os.environ["VM_TICKET"]),
    )

    status = await mesh.status(name)
    check("status: online and direct", status.online and status.direct, repr(status))

    watcher = Sessions()
    watch = mesh.watch_sessions(name, watcher)
    got = await watcher.waiter.until(lambda: watcher.seen(lambda k, _: k == "list"))
    check("watch: first list arrives", got, repr(watcher.events))

    sid = await mesh.open_session(name, cwd, SHELL, 24, 80)
    check("open_session returns a hex id", len(sid) == 8, sid)
    got = await watcher.waiter.until(
        lambda: watcher.seen(lambda k, s: k == "created" and s.id == sid)
    )
    check("watch: live 'created' event", got, repr(watcher.events))

    listed = await mesh.sessions(name)
    mine = [s for s in listed if s.id == sid]
    check(
        "sessions() lists it, running, in its folder",
        len(mine) == 1 and mine[0].running and mine[0].cwd.endswith("project"),
        repr(listed),
    )

    screen = Screen()
    h = await mesh.attach(name, sid, 24, 80, screen)
    await h.send_text("echo hi\r")
    got = await screen.waiter.until(lambda: "hi" in lines(h))
    check("echo hi -> 'hi' on its own line", got, h.screen_text())
    check("raw output reached on_output", b"hi" in bytes(screen.output))

    await h.resize(30, 100)
    await h.send_text("stty size\r")
    got = await screen.waiter.until(lambda: "30 100" in lines(h))
    check("resize: stty size says 30 100", got, h.screen_text())
    check("mirror follows the size", h.screen_size() == [30, 100], h.screen_size())

    await h.detach()
    check("detach: no close callback", screen.closed == [], repr(screen.closed))

    again = Screen()
    h2 = await mesh.attach(name, sid, 30, 100, again)
    got = await again.waiter.until(lambda: "hi" in lines(h2) and "30 100" in lines(h2))
    check("re-attach: the screen comes back", got, h2.screen_text())

    await h.reattach()
    got = await screen.waiter.until(lambda: "30 100" in lines(h))
    check("reattach() on a detached handle brings the screen back", got, h.screen_text())
    await h.detach()

    await mesh.resume()
    await h2.send_text("echo back\r")
    got = await again.waiter.until(lambda: "back" in lines(h2))
    check("resume: re-dialed and re-attached, still typing", got, h2.screen_text())
    check("resume: no close reported", again.closed == [], repr(again.closed))
    got = await watcher.waiter.until(
        lambda: sum(1 for k, _ in watcher.events if k == "list") >= 2
    )
    check("resume: the watch lists again", got, repr(watcher.events))

    await expect_error(
        "attach to a missing session is MeshError.NotFound",
        vm.MeshError.NotFound,
        mesh.attach(name, "0badf00d", 24, 80, Screen()),
    )
    await expect_error(
        "an unknown machine is MeshError.NotFound",
        vm.MeshError.NotFound,
        mesh.sessions("nowhere"),
    )

    await h2.send_text("exit 3\r")
    got = await again.waiter.until(lambda: again.exit_codes == [3])
    check("exit: on_exit(3)", got, repr(again.exit_codes))
    got = await watcher.waiter.until(
        lambda: watcher.seen(
            lambda k, s: k == "updated" and s.id == sid and s.exit_code == 3
        )
    )
    check("watch: live 'updated' event with the exit code", got, repr(watcher.events))

    await mesh.kill(name, sid)
    got = await watcher.waiter.until(
        lambda: watcher.seen(lambda k, s: k == "removed" and s == sid)
    )
    check("kill: live 'removed' event", got, repr(watcher.events))

    await files_and_git(mesh, name, work)

    watch.cancel()
    await mesh.forget(name)
    check("forget: machines() is empty", mesh.machines() == [])
    await mesh.close()


async def files_and_git(mesh, name, work):
    repo = os.path.join(work, "repo")
    os.makedirs(repo)
    with open(os.path.join(repo, "notes.txt"), "w") as f:
        f.write("first line\nsecond line\n")
    git = ["git", "-C", repo, "-c", "user.name=Phone", "-c", "user.email=p@example.com"]
    subprocess.run(git + ["init", "-q", "-b", "main"], check=True)
    subprocess.run(git + ["add", "notes.txt"], check=True)
    subprocess.run(git + ["commit", "-q", "-m", "notes"], check=True)
    with open(os.path.join(repo, "notes.txt"), "a") as f:
        f.write("third line\n")
    with open(os.path.join(repo, "new.txt"), "w") as f:
        f.write("new\n")
    os.makedirs(os.path.join(repo, "sub"))

    roots = await mesh.roots(name)
    check("roots: the allowed folder", roots == [work], repr(roots))

    folder = await mesh.list_folder(name, repo)
    kinds = {e.name: e.kind for e in folder.entries}
    check(
        "list_folder: files and folders, folders first",
        folder.path == repo
        and kinds.get("notes.txt") == vm.EntryKind.FILE
        and kinds.get("sub") == vm.EntryKind.FOLDER
        and folder.entries[0].name in (".git", "sub"),
        repr(folder),
    )
    marks = {e.name: e.git for e in folder.entries}
    check(
        "list_folder: git marks",
        marks.get("notes.txt") == vm.GitState.MODIFIED
        and marks.get("new.txt") == vm.GitState.UNTRACKED,
        repr(marks),
    )

    content = await mesh.read_file(name, os.path.join(repo, "notes.txt"), 1 << 20)
    check(
        "read_file: the whole file",
        content.data == b"first line\nsecond line\nthird line\n" and content.complete,
        repr(content),
    )
    part = await mesh.read_file(name, os.path.join(repo, "notes.txt"), 5)
    check(
        "read_file: bounded, and says so",
        part.data == b"first" and not part.complete and part.size == 34,
        repr(part),
    )
    await expect_error(
        "read_file: a missing file is MeshError.NotFound",
        vm.MeshError.NotFound,
        mesh.read_file(name, os.path.join(repo, "missing.txt"), 100),
    )
    await expect_error(
        "read_file: outside the roots is MeshError.Forbidden",
        vm.MeshError.Forbidden,
        mesh.read_file(name, "/etc/hostname", 100),
    )

    status = await mesh.git_status(name, repo)
    changes = {c.path: c.state for c in status.changes}
    check(
        "git_status: branch and changed files",
        status.branch == "main"
        and status.root == repo
        and changes == {"notes.txt": vm.GitState.MODIFIED, "new.txt": vm.GitState.UNTRACKED},
        repr(status),
    )
    diff = await mesh.git_diff(name, repo, "notes.txt", False)
    check("git_diff: the added line", "+third line" in diff, diff)
    log = await mesh.git_log(name, repo, 0, 10)
    check(
        "git_log: the commit",
        [c.summary for c in log] == ["notes"] and log[0].author == "Phone",
        repr(log),
    )

    notes = os.path.join(repo, "notes.txt")
    version = (await mesh.read_file(name, notes, 1 << 20)).version
    written = await mesh.write_file(name, notes, b"rewritten\n", version)
    with open(notes, "rb") as f:
        on_disk = f.read()
    check(
        "write_file: replaces the version read",
        on_disk == b"rewritten\n" and written.size == 10,
        repr(on_disk),
    )
    await expect_error(
        "write_file: a stale version is MeshError.Conflict, the file kept",
        vm.MeshError.Conflict,
        mesh.write_file(name, notes, b"lost\n", version),
    )
    with open(notes, "rb") as f:
        check("write_file: a refused write changes nothing", f.read() == b"rewritten\n")
    await mesh.write_file(name, os.path.join(repo, "fresh.txt"), b"fresh\n", None)
    with open(os.path.join(repo, "fresh.txt"), "rb") as f:
        check("write_file: creates a new file", f.read() == b"fresh\n")


def run(entry=None):
    try:
        asyncio.run((entry or main)())
    except Exception:  # noqa: BLE001
        traceback.print_exc()
        check("no unexpected exception", False)
    print(f"{passed} passed, {failed} failed")
    sys.exit(0 if failed == 0 and passed > 0 else 1)


if __name__ == "__main__":
    run()
