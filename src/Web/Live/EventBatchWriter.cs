using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Sft.Data.Persistence;
using Sft.Training.Engine;
using Sft.Web.Api.Models;
using Sft.Web.Storage;

namespace Sft.Web.Live;

/// <summary>One training event of one job, as queued for the writer.</summary>
public sealed record JobEventItem(string JobId, TrainingEvent Event);

/// <summary>
/// Writes one batch of training events in one transaction: metric points, job events, checkpoint rows and the
/// progress fields of each job row. A step that comes again (a run resumed from a checkpoint repeats the steps
/// after it) replaces the stored points from that step on, so a chart continues instead of zigzagging.
/// </summary>
sealed class EventBatchWriter(SftDbContext db, DataFolder folder)
{
    public async Task<List<MetricsMessage>> WriteAsync(IReadOnlyList<JobEventItem> batch, CancellationToken ct)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var jobs = new List<JobBatch>();
        foreach (var group in batch.GroupBy(i => i.JobId, StringComparer.Ordinal))
        {
            var job = await db.Jobs.FindAsync([group.Key], ct);
            var jobBatch = new JobBatch(group.Key, job);
            foreach (var item in group) await ApplyAsync(jobBatch, item.Event, ct);
            db.MetricPoints.AddRange(jobBatch.Points);
            db.JobEvents.AddRange(jobBatch.Events);
            jobs.Add(jobBatch);
        }
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return jobs.Select(j => j.ToMessage()).ToList();
    }

    Task ApplyAsync(JobBatch job, TrainingEvent trainingEvent, CancellationToken ct) => trainingEvent switch
    {
        StepEvent step => ApplyStepAsync(job, step, ct),
        EvalEvent eval => Done(() => ApplyEval(job, eval)),
        CheckpointEvent checkpoint => ApplyCheckpointAsync(job, checkpoint, ct),
        LogEvent log => Done(() => job.Event(log.Time, LevelName(log.Level), "message", log.Message, null)),
        PhaseEvent phase => Done(() => job.Event(phase.Time, "info", "message",
            phase.Detail is { Length: > 0 } d ? $"Phase: {PhaseName(phase.Phase)} ({d})" : $"Phase: {PhaseName(phase.Phase)}",
            new { phase = PhaseName(phase.Phase), detail = phase.Detail })),
        _ => Done(() => job.Event(trainingEvent.Time, "debug", "message", $"Unrecognised training event {trainingEvent.GetType().Name}", null)),
    };

    static Task Done(Action apply)
    {
        apply();
        return Task.CompletedTask;
    }

    async Task ApplyStepAsync(JobBatch job, StepEvent s, CancellationToken ct)
    {
        if (job.CurrentStep > 0 && s.Step <= job.CurrentStep)
        {
            // A resumed run repeats steps after its checkpoint: the repeated steps replace the earlier attempt's points.
            await db.MetricPoints.Where(p => p.JobId == job.JobId && p.Step >= s.Step).ExecuteDeleteAsync(ct);
            job.Points.RemoveAll(p => p.Step >= s.Step);
            var storedTokens = await db.MetricPoints.Where(p => p.JobId == job.JobId && p.Name == MetricNames.Tokens).SumAsync(p => p.Value, ct);
            job.TrainedTokens = (long)storedTokens + (long)job.Points.Where(p => p.Name == MetricNames.Tokens).Sum(p => p.Value);
            job.ReplacedFromStep = Math.Min(job.ReplacedFromStep ?? long.MaxValue, s.Step);
            job.Event(s.Time, "info", "message",
                $"Step {s.Step} follows an earlier attempt that reached step {job.CurrentStep}; its metric points from step {s.Step} on are replaced.",
                new { replaced_from_step = s.Step, previous_step = job.CurrentStep });
        }

        job.Point(s.Step, MetricNames.Loss, s.Loss, s.Time);
        job.Point(s.Step, MetricNames.LearningRate, s.LearningRate, s.Time);
        job.Point(s.Step, MetricNames.GradNorm, s.GradNorm, s.Time);
        job.Point(s.Step, MetricNames.Tokens, s.Tokens, s.Time);
        job.Point(s.Step, MetricNames.TokensPerSecond, s.TokensPerSecond, s.Time);
        job.Point(s.Step, MetricNames.SamplesPerSecond, s.SamplesPerSecond, s.Time);
        job.Point(s.Step, MetricNames.StepSeconds, s.StepSeconds, s.Time);
        job.Point(s.Step, MetricNames.MemoryRss, s.Memory.ProcessRss, s.Time);
        job.Point(s.Step, MetricNames.MemoryPeakRss, s.Memory.ProcessPeakRss, s.Time);
        if (s.Memory.GpuAllocated is { } allocated) job.Point(s.Step, MetricNames.GpuAllocated, allocated, s.Time);
        if (s.Memory.GpuReserved is { } reserved) job.Point(s.Step, MetricNames.GpuReserved, reserved, s.Time);

        job.CurrentStep = s.Step;
        job.TrainedTokens += s.Tokens;
        job.LastLoss = double.IsFinite(s.Loss) ? s.Loss : null;
        if (job.Row is { } row)
        {
            row.CurrentStep = s.Step;
            row.TotalSteps = s.TotalSteps;
            row.LastLoss = job.LastLoss;
            row.TokensPerSecond = s.TokensPerSecond;
            row.EtaSeconds = s.Eta?.TotalSeconds;
            row.TrainedTokens = job.TrainedTokens;
        }

        var total = s.TotalSteps > 0 ? $"/{s.TotalSteps}" : "";
        job.Event(s.Time, double.IsFinite(s.Loss) && double.IsFinite(s.GradNorm) ? "info" : "warning", "metrics",
            string.Create(CultureInfo.InvariantCulture,
                $"Step {s.Step}{total}: loss={s.Loss:F4} lr={s.LearningRate:0.###E+0} grad_norm={s.GradNorm:F3} {s.TokensPerSecond:F0} tok/s"),
            new
            {
                step = s.Step, total_steps = s.TotalSteps, epoch = s.Epoch, epoch_progress = s.EpochProgress,
                loss = s.Loss, learning_rate = s.LearningRate, grad_norm = s.GradNorm, tokens = s.Tokens,
                loss_tokens = s.LossTokens, samples = s.Samples, step_seconds = s.StepSeconds,
                tokens_per_second = s.TokensPerSecond, samples_per_second = s.SamplesPerSecond,
                eta_seconds = s.Eta?.TotalSeconds,
            });
    }

    static void ApplyEval(JobBatch job, EvalEvent e)
    {
        job.Point(e.Step, MetricNames.EvalLoss, e.Loss, e.Time);
        job.Point(e.Step, MetricNames.EvalPerplexity, e.Perplexity, e.Time);
        job.LastEvalLoss = double.IsFinite(e.Loss) ? e.Loss : null;
        if (job.Row != null) job.Row.LastEvalLoss = job.LastEvalLoss;
        job.Event(e.Time, double.IsFinite(e.Loss) ? "info" : "warning", "metrics",
            string.Create(CultureInfo.InvariantCulture, $"Eval at step {e.Step}: loss={e.Loss:F4} perplexity={e.Perplexity:F3}"),
            new
            {
                step = e.Step, eval_loss = e.Loss, eval_perplexity = e.Perplexity, loss_tokens = e.LossTokens,
                samples = e.Samples.Select(x => new { prompt = x.Prompt, completion = x.Completion }),
            });
    }

    async Task ApplyCheckpointAsync(JobBatch job, CheckpointEvent c, CancellationToken ct)
    {
        var stored = folder.ToStored(c.Path);
        var row = db.Checkpoints.Local.FirstOrDefault(x => x.JobId == job.JobId && x.Step == c.Step)
                  ?? await db.Checkpoints.FirstOrDefaultAsync(x => x.JobId == job.JobId && x.Step == c.Step, ct);
        if (row == null)
        {
            row = new CheckpointEntity { JobId = job.JobId, Path = stored };
            db.Checkpoints.Add(row);
        }
        row.Step = c.Step;
        row.Path = stored;
        row.Kind = c.Kind switch
        {
            CheckpointKind.Full => CheckpointKindEntity.Full,
            CheckpointKind.Adapter => CheckpointKindEntity.Adapter,
            CheckpointKind.Merged => CheckpointKindEntity.Merged,
            CheckpointKind.Emergency => CheckpointKindEntity.Emergency,
            _ => throw new ArgumentOutOfRangeException(nameof(c), c.Kind, "unknown checkpoint kind"),
        };
        row.SizeBytes = c.Bytes;
        row.CreatedAt = c.Time;
        row.MetricsJson = EventJson.Serialize(new { step = c.Step, loss = job.LastLoss, eval_loss = job.LastEvalLoss });
        job.Checkpoints.Add(row);
        job.Event(c.Time, "info", "checkpoint",
            string.Create(CultureInfo.InvariantCulture, $"Checkpoint at step {c.Step} ({row.Kind.ToString().ToLowerInvariant()}, {c.Bytes / 1048576.0:F1} MiB): {stored}"),
            new { step = c.Step, path = stored, kind = row.Kind.ToString().ToLowerInvariant(), bytes = c.Bytes });
    }

    static string LevelName(TrainingLogLevel level) => level switch
    {
        TrainingLogLevel.Debug => "debug",
        TrainingLogLevel.Info => "info",
        TrainingLogLevel.Warning => "warning",
        _ => "error",
    };

    static string PhaseName(TrainingPhase phase) => phase.ToString().ToLowerInvariant();

    /// <summary>What one batch adds for one job.</summary>
    sealed class JobBatch(string jobId, JobEntity? row)
    {
        public string JobId { get; } = jobId;
        public JobEntity? Row { get; } = row;
        public long CurrentStep { get; set; } = row?.CurrentStep ?? 0;
        public long TrainedTokens { get; set; } = row?.TrainedTokens ?? 0;
        public double? LastLoss { get; set; } = row?.LastLoss;
        public double? LastEvalLoss { get; set; } = row?.LastEvalLoss;
        public long? ReplacedFromStep { get; set; }
        public List<MetricPointEntity> Points { get; } = [];
        public List<JobEventEntity> Events { get; } = [];
        public List<CheckpointEntity> Checkpoints { get; } = [];

        /// <summary>Non-finite values (a diverged loss) are not stored as points: SQLite turns NaN into NULL.
        /// The step's event keeps them and is logged as a warning.</summary>
        public void Point(long step, string name, double value, DateTimeOffset time)
        {
            if (double.IsFinite(value)) Points.Add(new MetricPointEntity { JobId = JobId, Step = step, Name = name, Value = value, Time = time });
        }

        public void Event(DateTimeOffset time, string level, string type, string message, object? data) =>
            Events.Add(new JobEventEntity
            {
                JobId = JobId, Time = time, Level = level, Type = type, Message = message,
                DataJson = data == null ? null : EventJson.Serialize(data),
            });

        public MetricsMessage ToMessage() => new(
            JobId, Points.Select(MetricPointDto.From).ToList(), Events.Select(JobEventDto.From).ToList(),
            Checkpoints.Distinct().Select(c => CheckpointDto.From(c)).ToList(),
            Row == null ? null : JobProgressDto.From(Row), ReplacedFromStep, Replay: false);
    }
}
