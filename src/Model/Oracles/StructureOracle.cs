using InotifySim.Model.Inotify;
using InotifySim.Model.Kernel;
using InotifySim.Model.Vfs;

namespace InotifySim.Model.Oracles;

/// <summary>
/// Structure: for every handle, a watch is on the handle's list iff its wd is in the handle's idr
/// iff it is on its inode's list, and an installed watch holds exactly the lists' reference.
/// </summary>
public sealed class StructureOracle(Machine m) : Oracle(m)
{
    public override OracleSet Kind => OracleSet.Structure;

    private void Struct(bool ok, string what, params string[] fns)
    {
        if (!ok) Fail(BugClass.ListCorruption, "inotify structure: ", what, fns);
    }

    public override void CheckQuiescent()
    {
        foreach (var o in K.Slab.Live())
        {
            if (o is not InotifyHandle ih) continue;
            var onList = ih.watches.list_for_each_entry<InotifyWatch>("h_list", "oracle").ToList();
            var inIdr = new List<InotifyWatch>();
            foreach (var kv in ih.idr.Entries) inIdr.Add((InotifyWatch)kv.Value);
            foreach (var w in onList)
            {
                Struct(inIdr.Contains(w), $"watch wd {w.PeekWd} is on {ih.Describe}->watches but not in its idr", "remove_watch_no_event");
                var inode = w.PeekInode!;
                bool onInode = inode.inotify_watches.list_for_each_entry<InotifyWatch>("i_list", "oracle").ToList().Contains(w);
                Struct(onInode, $"watch wd {w.PeekWd} is on its handle's list but not on {inode.Describe}->inotify_watches", "remove_watch_no_event");
                Struct(w.count.Peek == 1, $"installed watch wd {w.PeekWd} has count {w.count.Peek} in a quiescent state (expected 1: the lists' reference)", "get_inotify_watch", "put_inotify_watch");
            }
            foreach (var w in inIdr)
                Struct(onList.Contains(w), $"wd {w.PeekWd} is in {ih.Describe}->idr but the watch is not on the handle's list", "remove_watch_no_event");
        }
    }
}
