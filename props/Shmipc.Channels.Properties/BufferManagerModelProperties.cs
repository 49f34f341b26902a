// Property 1 — buffer manager, model-based (docs/PROTOCOL.md §4.4–§4.7).
// Invariant: for random layouts (1–3 size classes, 1–4 MiB) and random sequences of Alloc / AllocChain /
// Recycle / Commit run through the creating manager or a second one that mapped the same memory, the real
// free lists match a plain in-memory model step by step: each allocation comes from the list the model
// predicts, no slice is handed out while held, held slices never overlap, free + held = cap for every list
// (free = the header's size field), per-process counters match, committed chains read back exactly, every
// free list walks from head to tail visiting exactly `size` slices, recycling everything restores every list
// (and each list then hands out all of its slices but the last, each once), and a manager made by Map sees
// exactly the lists that Create laid out.
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Shmipc.Channels.Memory;
using Xunit;

namespace Shmipc.Channels.Properties;

public sealed unsafe class BufferManagerModelProperties
{
    [Property(MaxTest = 100, Arbitrary = new[] { typeof(Generators) })]
    public Property Buffer_manager_matches_the_model(BufferScenario scenario)
    {
        using var memory = new NativeBuffer(scenario.Region.Length);
        ExpectedList[]? lists = scenario.Region.ComputeLists();
        (uint SliceSize, uint Percent)[] classes = scenario.Region.ToCreateArgument();
        if (lists is null)
        {
            ShmipcException e = Assert.Throws<ShmipcException>(() => CreateOn(memory, classes));
            Assert.Equal(ShmipcErrorCode.InvalidConfiguration, e.ErrorCode);
            return true.Classify(true, "layout refused (a class gets 0 slices)");
        }

        BufferManager creator = BufferManager.Create(memory.Pointer, memory.Length, classes);
        ManagerAssert.FreshLayout(creator, memory.Pointer, lists);
        BufferManager mapper = BufferManager.Map(memory.Pointer, memory.Length);
        ManagerAssert.SameLists(creator, mapper, "Map right after Create");

        var model = new BufferManagerModel(memory.Pointer, memory.Length, creator, mapper, lists);
        foreach (BufferOp op in scenario.Ops)
        {
            model.Apply(op);
        }

        model.Finish();
        return true
            .Classify(model.DrainedAList, "a list was drained to its last slice")
            .Classify(model.FailedAllocations > 0, "some allocation was refused")
            .Classify(model.MaxHeldSlices > 100, "more than 100 slices held at once");
    }

    private static void CreateOn(NativeBuffer memory, (uint SliceSize, uint Percent)[] classes) =>
        BufferManager.Create(memory.Pointer, memory.Length, classes);
}
