using System.Runtime.ExceptionServices;
using Sft.Training.Config;
using Sft.Training.Models;
using Sft.Training.Pipeline;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace Sft.Training.Engine.Replicas;

/// <summary>
/// The model replicas of a run, one per device (one replica = the plain single-device run). Every global batch
/// (<c>batch_size × replicas</c> rows, in the order a single replica with that batch size would see them) is cut into
/// consecutive slices of <c>batch_size</c> rows, one per replica; each replica runs forward and backward on its
/// slices with the loss divided by the target tokens of the whole accumulated global batch, so the summed gradients
/// equal the single-replica gradient of the same samples.
/// <para>
/// After the backward passes the gradients are summed into replica 0, replica 0 alone clips and takes the AdamW step,
/// and its updated weights are broadcast to the others. We chose this over DDP's "every replica steps its own AdamW
/// on all-reduced gradients": it moves the same bytes (a reduce plus a broadcast is one all-reduce's traffic), the
/// weights are identical by construction rather than by every device rounding alike, there is one optimizer state
/// (what a checkpoint saves and resume loads), and the other devices hold no AdamW moments. Its cost, that the other
/// devices wait during the step, is small next to forward and backward; on CPU replicas, which share the same
/// cores, one AdamW pass instead of N is simply less work.
/// </para>
/// Replicas on distinct GPUs run on one thread each (grad mode and dispose scopes are per thread, so each pass opens
/// its own scope). CPU replicas run in turn: one replica's ops already use every core, and the order of their dropout
/// draws from torch's one CPU generator stays fixed, so runs and resumes are reproducible. (Measured with the
/// demo-tiny config, 12 steps, on the shared 2-core machine at load ~9: in turn 243-248 tokens/s, on two threads
/// 347-386, one replica of the whole batch 278-318; the same losses. Threads only won a larger share of a busy machine.)
/// </summary>
public sealed class ReplicaSet : IDisposable
{
    readonly List<TrainableModel> _models;
    readonly IReadOnlyList<IReadOnlyList<Parameter>> _trainable;
    readonly IGradientReducer _reducer;
    readonly bool _threaded;

    ReplicaSet(List<TrainableModel> models, IGradientReducer reducer)
    {
        _models = models;
        _reducer = reducer;
        var trainable = models.Select(m => m.Trainable).ToList();
        // The reducers pair parameters by position: every replica must list the same names in the same order.
        if (trainable.Skip(1).FirstOrDefault(t => !t.Select(p => p.Name).SequenceEqual(trainable[0].Select(p => p.Name))) is not null)
            throw new InvalidOperationException("The model replicas have different trainable parameters; they must be loaded from the same config.");
        _trainable = trainable.Select(t => (IReadOnlyList<Parameter>)t.Select(p => p.Parameter).ToList()).ToList();
        var devices = models.Select(m => m.Model.Device).ToList();
        _threaded = models.Count > 1 && devices.All(d => d.type == DeviceType.CUDA) && devices.Select(d => d.index).Distinct().Count() == devices.Count;
    }

    /// <summary>Replica 0: the one that is evaluated, stepped and saved.</summary>
    public TrainableModel Primary => _models[0];

    public int Count => _models.Count;

    /// <summary>Loads one replica per device and makes them equal to replica 0 (LoRA adapters start random).
    /// torch's RNG is left as loading replica 0 alone leaves it, so dropout draws as in a single-replica run.</summary>
    public static ReplicaSet Load(TrainConfig config, IReadOnlyList<Device> devices, ITrainingEventSink events)
    {
        if (devices.Count == 0) throw new ArgumentException("A run needs at least one device.", nameof(devices));
        var models = new List<TrainableModel> { TrainableModel.Load(config, devices[0], events) };
        IGradientReducer? reducer = null;
        try
        {
            using (var rng = get_rng_state())
            {
                for (var i = 1; i < devices.Count; i++) models.Add(TrainableModel.Load(config, devices[i], events));
                set_rng_state(rng);
            }
            reducer = GradientReducers.For(models.Select(m => m.Model.Device).ToList(), events);
            var set = new ReplicaSet(models, reducer);
            if (set.Count > 1)
            {
                set.SyncWeights();
                events.Publish(new LogEvent(TrainingLogLevel.Info,
                    $"data parallel over {set.Count} replicas ({string.Join(", ", devices)}), gradients reduced by {reducer.Name}, " +
                    $"{(set._threaded ? "one thread per device" : "replicas run in turn")}"));
            }
            return set;
        }
        catch
        {
            reducer?.Dispose();
            foreach (var m in models) m.Dispose();
            throw;
        }
    }

    /// <summary>Copies replica 0's trainable weights into the others: after loading, after resuming replica 0, and
    /// after each of replica 0's optimizer steps.</summary>
    public void SyncWeights()
    {
        if (Count > 1) _reducer.BroadcastFromPrimary(_trainable);
    }

    /// <summary>
    /// Forward and backward of every micro-batch of one optimizer step on all replicas, replica i taking rows
    /// [i·rowsPerReplica, (i+1)·rowsPerReplica) of each batch; then the gradients are summed into replica 0.
    /// Returns the summed (not yet normalised) loss of all micro-batches.
    /// </summary>
    public double ForwardBackward(IReadOnlyList<Batch> batches, int rowsPerReplica, long denominator)
    {
        var sums = new double[Count];
        void Run(int replica) => sums[replica] = ForwardBackward(_models[replica].Model, batches, replica, rowsPerReplica, denominator);
        if (_threaded)
        {
            try { Parallel.For(0, Count, new ParallelOptions { MaxDegreeOfParallelism = Count }, Run); }
            catch (AggregateException e) when (e.InnerExceptions.Count > 0)
            {
                // The first replica's own error (out of memory on cuda:1, say), not "one or more errors occurred".
                ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
            }
        }
        else for (var r = 0; r < Count; r++) Run(r);
        if (Count > 1)
        {
            _reducer.SumGradientsIntoPrimary(_trainable);
            for (var r = 1; r < Count; r++) DropGradients(_trainable[r]);
        }
        return sums.Sum();
    }

    static double ForwardBackward(CausalLM model, IReadOnlyList<Batch> batches, int replica, int rowsPerReplica, long denominator)
    {
        using var grad = enable_grad();
        using var scope = NewDisposeScope();
        var lossSum = zeros(1, dtype: ScalarType.Float32, device: model.Device);
        var any = false;
        foreach (var batch in batches)
        {
            var start = (long)replica * rowsPerReplica;
            if (start >= batch.Rows) continue;
            using var micro = NewDisposeScope();
            var b = Slice(batch, start, Math.Min(rowsPerReplica, batch.Rows - start), model.Device);
            var hidden = model.ForwardHidden(b.InputIds, b.AttentionMask, b.PositionIds, b.SegmentIds);
            var part = CausalLmLoss.Compute(model, hidden, b.Labels);
            part.Sum.div(denominator).backward();
            lossSum.add_(part.Sum.detach());
            any = true;
        }
        return any ? lossSum.item<float>() : 0;
    }

    /// <summary>Rows [start, start+rows) of a batch on the device (views when it is the batch's own device, which the
    /// enclosing dispose scope frees; counts are not needed past this point).</summary>
    static Batch Slice(Batch batch, long start, long rows, Device device)
    {
        if (start == 0 && rows == batch.Rows) return device.type == DeviceType.CPU ? batch : batch.To(device);
        Tensor Part(Tensor t) => device.type == DeviceType.CPU ? t.narrow(0, start, rows) : t.narrow(0, start, rows).to(device);
        return new Batch(Part(batch.InputIds), Part(batch.Labels), Part(batch.AttentionMask),
            batch.PositionIds is { } p ? Part(p) : null, batch.SegmentIds is { } s ? Part(s) : null, 0, 0, 0);
    }

    static void DropGradients(IEnumerable<Parameter> parameters)
    {
        foreach (var p in parameters)
        {
            var grad = p.grad;
            if (grad is null) continue;
            p.grad = null;
            grad.Dispose();
        }
    }

    public void Dispose()
    {
        _reducer.Dispose();
        foreach (var m in _models) m.Dispose();
    }
}
