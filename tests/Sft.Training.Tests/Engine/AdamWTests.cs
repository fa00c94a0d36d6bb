using System.Text.Json;
using Sft.Training.Checkpoints;
using Sft.Training.Engine;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Sft.Training.Tests.Engine;

public class AdamWTests
{
    /// <summary>
    /// Step 1 of the reference full fine-tune: from the initial weights and the recorded pre-clip gradients,
    /// global-norm clipping then AdamWOptimizer (HF decay grouping) must land on the recorded parameters.
    /// </summary>
    [Theory]
    [InlineData("qwen2_tied")]
    [InlineData("qwen2_untied")]
    [InlineData("llama")]
    public void Clip_and_step_reproduce_reference_step_one(string fixture)
    {
        using var scope = NewDisposeScope();
        var run = JsonDocument.Parse(File.ReadAllText(TestAssets.Reference(fixture, "full_ft.json"))).RootElement;
        var noDecay = run.GetProperty("optimizer").GetProperty("no_decay_params").EnumerateArray().Select(e => e.GetString()!).ToHashSet();
        var trainable = run.GetProperty("trainable").EnumerateArray().Select(e => e.GetString()!).ToList();
        var step1 = run.GetProperty("history")[0];

        using var initial = WeightSource.Open(TestAssets.Reference(fixture, "model"));
        using var grads = SafeTensorsFile.Open(TestAssets.Reference(fixture, "full_ft_grads_step1.safetensors"));
        using var after = SafeTensorsFile.Open(TestAssets.Reference(fixture, "full_ft_params_step1.safetensors"));

        var parameters = trainable.Select(n => (n, new Parameter(initial.Read(n)))).ToList();
        // Gradients equal to the recorded ones: d/dp sum(p * g) = g.
        var loss = stack(parameters.Select(p => (p.Item2 * grads.Read(p.n)).sum()).ToArray()).sum();
        loss.backward();

        foreach (var (name, _) in parameters) Assert.Equal(!noDecay.Contains(name), AdamWOptimizer.IsDecayed(name));

        var norm = GradientClipping.ClipByGlobalNorm(parameters.Select(p => p.Item2), 1.0);
        Assert.Equal(step1.GetProperty("grad_norm_total").GetDouble(), norm, 4);

        using var optimizer = new AdamWOptimizer(parameters, new AdamWOptions(LearningRate: 1e-3, WeightDecay: 0.01));
        optimizer.Step();
        foreach (var (name, p) in parameters)
        {
            var expected = after.Read(name);
            var error = (p - expected).abs().max().item<float>();
            Assert.True(error < 1e-6, $"{name}: max abs error {error}");
        }
    }

    [Fact]
    public void Bf16_parameters_are_updated_from_fp32_master_weights()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        var start = randn(64, 64).to(ScalarType.BFloat16).to(ScalarType.Float32);   // representable in both
        var p32 = new Parameter(start.clone());
        var p16 = new Parameter(start.to(ScalarType.BFloat16));
        using var o32 = new AdamWOptimizer([("w", p32)], new AdamWOptions(LearningRate: 1e-4, WeightDecay: 0));
        using var o16 = new AdamWOptimizer([("w", p16)], new AdamWOptions(LearningRate: 1e-4, WeightDecay: 0));
        var g = randn(64, 64);
        for (var i = 0; i < 20; i++)
        {
            o32.ZeroGrad(); o16.ZeroGrad();
            (p32 * g).sum().backward();
            (p16 * g.to(ScalarType.BFloat16)).sum().backward();
            o32.Step(); o16.Step();
        }
        // 20 updates of 1e-4 move each weight by 2e-3, below bf16's resolution for most weights: applied
        // to bf16 weights directly most of them would round away. The fp32 master copy tracks the fp32
        // run, and the bf16 parameter is that master rounded once.
        var master = o16.StateTensors().Single(t => t.Name == "w.master").Tensor;
        var masterError = (master - p32).abs().max().item<float>();
        Assert.True(masterError < 1e-5, $"master error {masterError}");
        Assert.True(p16.equal(master.to(ScalarType.BFloat16)).all().item<bool>());
        var moved = (master - start).abs().mean().item<float>();
        Assert.True(moved > 1.9e-3, $"moved {moved}");
    }

    /// <summary>
    /// The one-pass CPU kernel against the tensor-operation path over several steps: fp32 parameters
    /// with and without decay, and bf16 parameters with fp32 masters and bf16 gradients; sizes that are
    /// not a multiple of the vector width, and one large enough to be split across threads.
    /// </summary>
    [Theory]
    [InlineData(ScalarType.Float32, 1_000)]
    [InlineData(ScalarType.Float32, 200_003)]
    [InlineData(ScalarType.BFloat16, 1_001)]
    [InlineData(ScalarType.BFloat16, 200_005)]
    public void Fused_cpu_kernel_matches_the_tensor_path(ScalarType dtype, long size)
    {
        using var scope = NewDisposeScope();
        // Its own generator: the global one is shared with tests running in parallel, which made the values differ per run.
        var random = new Generator(11, CPU);
        var start = randn([size], generator: random).to(dtype);
        var bias = randn([7], generator: random).to(dtype);
        var fused = new[] { ("w", new Parameter(start.clone())), ("b.bias", new Parameter(bias.clone())) };
        var plain = new[] { ("w", new Parameter(start.clone())), ("b.bias", new Parameter(bias.clone())) };
        var options = new AdamWOptions(LearningRate: 3e-3, WeightDecay: 0.1);
        using var fusedOptimizer = new AdamWOptimizer(fused, options);
        using var plainOptimizer = new AdamWOptimizer(plain, options) { FusedCpuKernel = false };
        for (var step = 0; step < 5; step++)
        {
            var g = randn([size], generator: random).to(dtype);
            var gb = randn([7], generator: random).to(dtype);
            foreach (var (set, optimizer) in new[] { (fused, fusedOptimizer), (plain, plainOptimizer) })
            {
                ((set[0].Item2 * g).sum() + (set[1].Item2 * gb).sum()).backward();
                optimizer.Step();
                optimizer.ZeroGrad();
            }
        }
        for (var i = 0; i < 2; i++)
        {
            var (a, b) = (fused[i].Item2.to(ScalarType.Float32), plain[i].Item2.to(ScalarType.Float32));
            var error = (a - b).abs().max().item<float>();
            // bf16: the masters agree to fp32 rounding (checked below), so a rounded parameter may sit one bf16 step
            // (2^-7 relative, at most) away where its master lies at a rounding boundary; fp32: within 1e-6.
            var tolerance = dtype == ScalarType.Float32 ? 1e-6f : b.abs().max().item<float>() * (1f / 128);
            Assert.True(error <= tolerance, $"{fused[i].Item1}: max abs error {error} (tolerance {tolerance})");
        }
        var fusedState = fusedOptimizer.StateTensors();
        var plainState = plainOptimizer.StateTensors();
        foreach (var ((name, a), (_, b)) in fusedState.Zip(plainState))
        {
            var error = (a - b).abs().max().item<float>();
            Assert.True(error < 1e-6f, $"{name}: max abs error {error}");
        }
        Assert.All(fused, p => Assert.Null(p.Item2.grad));   // ZeroGrad drops the gradients
    }

    /// <summary>The trainer hands clipping's coefficient to the step instead of scaling the gradients first: same values, bit for bit.</summary>
    [Theory]
    [InlineData(ScalarType.Float32, true)]
    [InlineData(ScalarType.BFloat16, true)]
    [InlineData(ScalarType.BFloat16, false)]
    public void Clipping_inside_the_step_equals_clipping_the_gradients_first(ScalarType dtype, bool fusedKernel)
    {
        using var scope = NewDisposeScope();
        var random = new Generator(17, CPU);
        var start = randn([100_003], generator: random).to(dtype);
        var grad = (randn([100_003], generator: random) * 5).to(dtype);
        var (first, inStep) = (new Parameter(start.clone()), new Parameter(start.clone()));
        var options = new AdamWOptions(LearningRate: 1e-3, WeightDecay: 0.1);
        using var clippedFirst = new AdamWOptimizer([("w", first)], options) { FusedCpuKernel = fusedKernel };
        using var clippedInStep = new AdamWOptimizer([("w", inStep)], options) { FusedCpuKernel = fusedKernel };
        for (var step = 0; step < 3; step++)
        {
            first.grad = grad.clone();
            inStep.grad = grad.clone();
            var norm = GradientClipping.ClipByGlobalNorm([first], 1.0);
            clippedFirst.Step();
            var coefficient = GradientClipping.Coefficient(GradientClipping.GlobalNorm([inStep]), 1.0);
            Assert.True(coefficient < 0.01, $"coefficient {coefficient}: the test must clip");
            Assert.Equal(norm, GradientClipping.GlobalNorm([inStep]));
            clippedInStep.Step(coefficient);
        }
        Assert.True(first.equal(inStep).all().item<bool>(), "parameters differ");
        foreach (var ((name, a), (_, b)) in clippedFirst.StateTensors().Zip(clippedInStep.StateTensors()))
            Assert.True(a.equal(b).all().item<bool>(), $"{name} differs");
    }

    [Theory]
    [InlineData(LrScheduleKind.Constant, 0, 1.0)]
    [InlineData(LrScheduleKind.Constant, 5, 1.0)]
    [InlineData(LrScheduleKind.Linear, 50, 0.5)]
    [InlineData(LrScheduleKind.Cosine, 50, 0.5)]
    [InlineData(LrScheduleKind.Cosine, 100, 0.0)]
    public void Schedules_follow_hugging_face(LrScheduleKind kind, long step, double expected)
    {
        var schedule = new LrSchedule(kind, PeakLr: 1.0, TotalSteps: 100);
        Assert.Equal(expected, schedule.At(step), 9);
    }

    [Fact]
    public void Warmup_then_cosine_to_lr_end()
    {
        var schedule = new LrSchedule(LrScheduleKind.Cosine, PeakLr: 1e-4, TotalSteps: 110, WarmupSteps: 10, EndLr: 1e-6);
        Assert.Equal(0, schedule.At(0));
        Assert.Equal(5e-5, schedule.At(5), 12);
        Assert.Equal(1e-4, schedule.At(10), 12);
        Assert.Equal(1e-6 + 0.5 * (1e-4 - 1e-6), schedule.At(60), 12);
        Assert.Equal(1e-6, schedule.At(110), 12);
        Assert.Equal(1e-6, schedule.At(500), 12);
    }
}
