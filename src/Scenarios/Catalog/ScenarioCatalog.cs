namespace InotifySim.Scenarios.Catalog;

/// <summary>Every scenario by name, in a fixed order.</summary>
public static class ScenarioCatalog
{
    public static IReadOnlyList<Scenario> All { get; } = new Scenario[]
    {
        new RmVsDeath(), new RmVsRm(), new CloseVsDeath(), new CloseVsUmount(), new AddVsAdd(),
        new AddVsUmount(), new RmVsUmount(), new EventVsRm(), new OneshotVsRm(), new ReadVsQueueLimit(),
        new AuditVsUser(), new LimitRace(), new ChildFlags(), new OneshotVsUmount(), new BlockingRead(),
        new ReadVsRm(), new ReadVsDeath(), new ReadVsUmount(), new ReadVsOverflow(),
        new AddVsRm(), new AddVsDeath(), new AddVsClose(), new RmVsClose(), new CloseVsEvent(), new CloseVsRead(),
        new RenameVsRm(), new EventVsEvent(), new ReadVsRead(), new RmVsUmountVsDeath(), new CloseVsUmountVsDeath(),
        new AddVsRead(), new CloseVsClose(), new UmountVsUmount(), new DeathVsDeath(), new DeathVsRename(), new DeathVsEvent(), new RenameVsRename(),
        new GeneratedWorkload(),
    };

    public static Scenario? Find(string name)
    {
        foreach (var s in All) if (s.Name == name) return s;
        if (name.StartsWith("workload", StringComparison.Ordinal)) return GeneratedWorkload.Parse(name);
        return null;
    }
}
