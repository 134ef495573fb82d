"""A structured AI session from the phone, through the generated Python bindings.

Run by tests/bindings.rs, which starts a real `vibemesh agent` whose `claude` CLI talks
to a fake model API on 127.0.0.1, and passes:
  VM_BINDINGS  folder with vibemesh_ios.py and libvibemesh_ios.so
  VM_TICKET    a fresh pairing ticket
  VM_WORK      the folder the session works in (the phone's folder goes inside too)

The fake model asks for a shell call when a message holds `[[run CMD]]`, answers
"The tool ran." once it ran, and echoes anything else. Every wait is event-driven.
"""

import os
import threading

from phone import Waiter, check, run, vm

# What claude calls its shell tool.
SHELL_TOOL = "Bash"


class Conv(vm.ConversationListener):
    """Keeps the items as the listener protocol describes them, and the statuses."""

    def __init__(self):
        self.waiter = Waiter()
        self.lock = threading.Lock()
        self.items = []
        self.statuses = []
        self.notices = []
        self.closed = []

    def on_items(self, start, items):
        with self.lock:
            del self.items[start:]
            self.items.extend(items)
        self.waiter.poke()

    def on_status(self, status):
        with self.lock:
            self.statuses.append(status)
        self.waiter.poke()

    def on_notice(self, message):
        self.notices.append(message)
        self.waiter.poke()

    def on_closed(self, error):
        self.closed.append(error)
        self.waiter.poke()

    def pending(self):
        with self.lock:
            return [
                i
                for i in self.items
                if isinstance(i, vm.ConvItem.APPROVAL) and i.decision is None
            ]

    def state(self):
        with self.lock:
            return self.statuses[-1].state if self.statuses else None

    def answers(self):
        with self.lock:
            return [i.text for i in self.items if isinstance(i, vm.ConvItem.ASSISTANT)]

    def turn_ends(self):
        with self.lock:
            return sum(1 for i in self.items if isinstance(i, vm.ConvItem.TURN_END))

    def dump(self):
        with self.lock:
            items = "\n".join(f"{type(i).__name__} {vars(i)}" for i in self.items)
            return f"{items}\nstatus: {[vars(s) for s in self.statuses[-1:]]}"


async def main():
    work = os.environ["VM_WORK"]
    mesh = await vm.Mesh.open(os.path.join(work, ".phone"), "phone", "none", "127.0.0.1:0")
    name = (await mesh.pair(os.environ["VM_TICKET"])).name

    sid = await mesh.start_conversation(name, vm.AiProvider.CLAUDE, work, None)
    listed = [s for s in await mesh.sessions(name) if s.id == sid]
    check(
        "start_conversation: listed as a structured claude session",
        len(listed) == 1 and listed[0].structured and listed[0].provider == "claude",
        repr(listed),
    )

    conv = Conv()
    h = await mesh.open_conversation(name, sid, conv)
    await h.send_message("say hello")
    got = await conv.waiter.until(
        lambda: conv.turn_ends() == 1 and conv.state() == vm.ConvState.YOUR_TURN
    )
    check(
        "a message gets its answer",
        got and conv.answers() == ["Hello from the fake model. You said: say hello"],
        conv.dump(),
    )
    check(
        "status went 'working', then 'your turn'",
        [s.state for s in conv.statuses][-2:] == [vm.ConvState.WORKING, vm.ConvState.YOUR_TURN],
        repr([s.state for s in conv.statuses]),
    )

    # A message sent while a turn runs waits in the queue; an interrupt ends the turn
    # and the queued message runs next.
    await h.send_message("[[hang]]")
    got = await conv.waiter.until(
        lambda: conv.state() == vm.ConvState.WORKING
        and isinstance(conv.items[-1], vm.ConvItem.ASSISTANT)
        and conv.items[-1].streaming
    )
    check("a long turn streams, status 'working'", got, conv.dump())
    await h.send_message("queued question")
    got = await conv.waiter.until(
        lambda: conv.statuses[-1].queued == 1
        and conv.items[-1] == vm.ConvItem.QUEUED(text="queued question")
    )
    check("a message sent meanwhile is queued, last", got, conv.dump())
    await h.interrupt()
    got = await conv.waiter.until(
        lambda: conv.turn_ends() == 3 and conv.state() == vm.ConvState.YOUR_TURN
    )
    users = [i.text for i in conv.items if isinstance(i, vm.ConvItem.USER)]
    check(
        "interrupt ends the turn, and the queued message runs next",
        got
        and users[-2:] == ["[[hang]]", "queued question"]
        and any(isinstance(i, vm.ConvItem.NOTICE) and i.text == "interrupted" for i in conv.items)
        and conv.statuses[-1].queued == 0
        and conv.answers()[-1] == "Hello from the fake model. You said: queued question",
        conv.dump(),
    )

    await h.send_message("make a file [[run touch created.txt]]")
    got = await conv.waiter.until(
        lambda: conv.pending() and conv.state() == vm.ConvState.NEEDS_APPROVAL
    )
    check("the approval request arrives, status 'needs approval'", got, conv.dump())
    ask = conv.pending()[0]
    check(
        "the request names the tool and the command, summed up on one line",
        ask.tool == SHELL_TOOL
        and "touch created.txt" in ask.input
        and ask.summary == "touch created.txt",
        repr(ask),
    )
    created = os.path.join(work, "created.txt")
    check("nothing ran before the answer", not os.path.exists(created))
    waiting = [s.waiting for s in await mesh.sessions(name) if s.id == sid]
    check(
        "the session list shows it waiting for an approval",
        waiting == [vm.SessionWaiting.APPROVAL(tool=SHELL_TOOL)],
        repr(waiting),
    )

    await h.answer(ask.id, vm.ApprovalDecision.ALLOW)
    got = await conv.waiter.until(
        lambda: conv.turn_ends() == 4 and conv.state() == vm.ConvState.YOUR_TURN
    )
    check("the turn ends after the answer, status 'your turn'", got, conv.dump())
    check("the assistant's answer", conv.answers()[-1:] == ["The tool ran."], conv.dump())
    check("the tool ran", os.path.exists(created))
    settled = [i for i in conv.items if isinstance(i, vm.ConvItem.APPROVAL)]
    check(
        "the approval shows the decision, in words too",
        [(i.decision, i.answer) for i in settled] == [(vm.ApprovalDecision.ALLOW, "allowed")],
        repr(settled),
    )
    check(
        "the listener's items are the reducer's",
        conv.items == h.items(),
        f"{conv.dump()}\n--- items() ---\n{h.items()}",
    )

    # Detach, miss nothing: re-attaching asks only for what came meanwhile.
    await h.detach()
    again = Conv()
    h2 = await mesh.open_conversation(name, sid, again)
    got = await again.waiter.until(lambda: again.turn_ends() == 4)
    check("a fresh attach replays the whole conversation", got, again.dump())
    check("replayed items equal the live ones", again.items == conv.items, again.dump())
    await h.reattach()
    await h.send_message("still there?")
    got = await conv.waiter.until(lambda: conv.turn_ends() == 5)
    check(
        "reattach: no item twice, and the next answer arrives",
        got
        and conv.items == h.items()
        and sum(1 for i in conv.items if isinstance(i, vm.ConvItem.APPROVAL)) == 1,
        conv.dump(),
    )
    # After the app was suspended: every connection is dialed afresh and both handles
    # pick up where they were, without repeating anything.
    await mesh.resume()
    await h.send_message("after resume")
    got = await conv.waiter.until(lambda: conv.turn_ends() == 6)
    got = got and await again.waiter.until(lambda: again.turn_ends() == 6)
    check(
        "resume: re-attached, the next answer reaches both, nothing twice",
        got
        and conv.items == h.items() == again.items
        and [i.text for i in conv.items if isinstance(i, vm.ConvItem.USER)].count("still there?") == 1,
        conv.dump(),
    )

    check("no close reported", conv.closed == [] and again.closed == [], repr(conv.closed))

    await h.detach()
    await h2.detach()
    await mesh.kill(name, sid)
    await mesh.close()


if __name__ == "__main__":
    run(main)
