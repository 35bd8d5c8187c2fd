namespace InotifySim.Model.Kernel;

/// <summary>
/// The list walking macros of include/linux/list.h as iterators, so a model function reads as
/// the C: <c>foreach (var watch in head.list_for_each_entry&lt;InotifyWatch&gt;("i_list"))</c>.
/// Each step is <see cref="ListHead.Next"/> (CONFIG_DEBUG_LIST: a walk through a deleted entry
/// is list corruption, reported in the walking function), taken exactly where the macro takes it.
/// </summary>
public static class ListIter
{
    private static string Walker(ListHead head, string? walker) => walker ?? head.Container!.K.current.CurrentFunction;

    /// <summary>list_for_each_entry(pos, head, member): pos->member.next is read after the body.</summary>
    /// <remarks><paramref name="walker"/> names the walk in a corruption report (default: the current function).</remarks>
    public static IEnumerable<T> list_for_each_entry<T>(this ListHead head, string member, string? walker = null) where T : KObject
    {
        for (var p = head.Next(Walker(head, walker)); p != head; p = p.Next(Walker(head, walker)))
            yield return p.list_entry<T>(member);
    }

    /// <summary>
    /// list_for_each_entry_safe(pos, n, head, member): the next entry is read before the body, so
    /// the body may delete pos. Yields (pos, n): n is the list_head of the next entry (the head
    /// itself at the end), as the macro's second cursor.
    /// </summary>
    public static IEnumerable<(T pos, ListHead n)> list_for_each_entry_safe<T>(this ListHead head, string member, string? walker = null) where T : KObject
    {
        for (ListHead p = head.Next(Walker(head, walker)), n = p.Next(Walker(head, walker)); p != head; p = n, n = p.Next(Walker(head, walker)))
            yield return (p.list_entry<T>(member), n);
    }
}
