using System.Text;
using static InotifySim.Model.Inotify.IN;

namespace InotifySim.Model.Spec;

/// <summary>What <see cref="QueueRules.Queue"/> did with an event.</summary>
public enum QueueOutcome { Queued, Coalesced, Overflow, DroppedAfterOverflow }

/// <summary>
/// The per-instance part of the reference specification (inotify(7), 2006 semantics), shared by
/// <see cref="InotifySpec"/> (the sequential model-based tests) and the run-time
/// <see cref="Oracles.UserVisibleOracle"/>:
///  - identical consecutive events (wd, mask, cookie, name) are coalesced if the older is unread
///    (the newest event in the queue);
///  - a queue holds at most max_queued_events events; the next one is replaced by a single
///    IN_Q_OVERFLOW with wd -1 and later ones are dropped (until reads make room);
///  - read() with a buffer too small for the first event returns 0 (before 2.6.21); EAGAIN on an
///    empty queue; otherwise as many whole events as fit, oldest first.
/// </summary>
public static class QueueRules
{
    public const int EAGAIN = 11;

    /// <summary>inotify(7): len counts the name's bytes and its terminating null, padded; here to a multiple of 16.</summary>
    public static uint PaddedLen(string name) => (uint)((Encoding.UTF8.GetByteCount(name) + 1 + 15) / 16 * 16);

    /// <summary>Queues (wd, mask, cookie, name) on <paramref name="q"/> of an instance whose limit is <paramref name="maxQueued"/>.</summary>
    public static QueueOutcome Queue(List<Ev> q, int maxQueued, int wd, uint mask, uint cookie, string? name)
    {
        if (q.Count > 0)
        {
            var last = q[^1];
            if (last.Wd == wd && last.Mask == mask && last.Cookie == cookie && last.Name == name) return QueueOutcome.Coalesced;
        }
        if (q.Count > maxQueued) return QueueOutcome.DroppedAfterOverflow;
        if (q.Count == maxQueued) { q.Add(new Ev(-1, IN_Q_OVERFLOW, 0, 0, null)); return QueueOutcome.Overflow; }
        q.Add(new Ev(wd, mask, cookie, name is null ? 0u : PaddedLen(name), name));
        return QueueOutcome.Queued;
    }

    /// <summary>A non-blocking read(2) of <paramref name="size"/> bytes: the events it returns go to <paramref name="events"/>.</summary>
    public static long Read(List<Ev> q, int size, List<Ev> events)
    {
        if (q.Count == 0) return -EAGAIN;
        long bytes = 0;
        while (q.Count > 0 && bytes + EVENT_SIZE + q[0].Len <= size)
        {
            bytes += EVENT_SIZE + q[0].Len;
            events.Add(q[0]);
            q.RemoveAt(0);
        }
        return bytes;
    }
}
