using InotifySim.Tests.Property.ModelBased;
using static InotifySim.Model.Inotify.IN;

namespace InotifySim.Tests.Property.Differential;

/// <summary>
/// The named rules that explain every accepted difference between today's kernel and the
/// model of the 2006 kernel. Each rule says which kernel change it stands for; a difference
/// no rule explains fails the test. Rules that fired are counted (and printed).
/// </summary>
public static class Rules
{
    /// <summary>
    /// Later kernels send IN_ATTRIB (no name) to an inode whose link count changes: the unlinked
    /// file, the directory entry a rename overwrote. inotify(7): IN_ATTRIB "Metadata changed—for
    /// example, ... link count (since Linux 2.6.25)" (fsnotify_link_count()). Applied to the kernel
    /// stream of unlink and rename.
    /// </summary>
    public const string LinkCountAttrib = "link-count-attrib (IN_ATTRIB on link-count change, since 2.6.25; inotify(7))";

    /// <summary>
    /// Since 2.6.36 a watch that IN_ONESHOT removes after its event sends IN_IGNORED (inotify(7) BUGS:
    /// "as an unintended effect of other changes, since Linux 2.6.36, an IN_IGNORED event is generated");
    /// 2006 sent none. Drops the kernel's IN_IGNORED that follows a one-shot watch's event.
    /// </summary>
    public const string OneshotIgnored = "oneshot-ignored (IN_IGNORED after an IN_ONESHOT event, since 2.6.36; inotify(7) BUGS)";

    /// <summary>
    /// read(2) with a buffer too small for the next event: 0 before 2.6.21, -EINVAL since
    /// (inotify(7); docs/kernel-sources.md §3b).
    /// </summary>
    public const string ReadEinval = "read-einval (too-small read buffer: 0 before 2.6.21, -EINVAL since)";

    /// <summary>
    /// The order of events for different watches within one syscall changed: 2.6.17 fsnotify_change()
    /// queued the inode's IN_ATTRIB before its parent's; later fsnotify_parent()/fsnotify() deliver the
    /// parent's first. 2.6.17 fsnotify_move() sent the overwritten target's IN_DELETE_SELF before the
    /// source's IN_MOVE_SELF; later kernels send it at the target's final dput. 2.6.17 vfs_rmdir held
    /// a second dentry reference (dentry_unhash), so the directory's IN_DELETE_SELF followed the parent's
    /// IN_DELETE; later kernels dput before d_delete_notify(). (Commits not identified; the per-watch order
    /// is unchanged.) For chmod, rename and rmdir the streams are compared watch by watch.
    /// </summary>
    public const string CrossWatchOrder = "cross-watch-order (chmod/rename/rmdir: per-wd order kept, order across wds changed after 2.6.17)";

    /// <summary>
    /// Coalescing with the newest queued event (1c17d18e, 2.6.25) needs no rule: the fixed model has
    /// coalesce-last. Listed so the report names it.
    /// </summary>
    public const string CoalesceLast = "coalesce-last (1c17d18e, 2.6.25): in the fixed model, no normalisation needed";
}
