namespace Sft.Data.Datasets;

/// <summary>Who speaks a turn. Dataset formats map their role names onto these.</summary>
public enum Role { System, User, Assistant, Tool }

/// <summary>One message. <paramref name="LossWeight"/> is the per-turn weight some formats carry
/// (messages-format <c>loss_weight</c>); null means the default for the role.</summary>
public sealed record Turn(Role Role, string Content, double? LossWeight = null);

/// <summary>The raw Alpaca fields of the last user turn, kept so templates that render them
/// specially (the MindFormers/Stanford Alpaca prompt "### Instruction: ... ### Input: ...") can.</summary>
public sealed record AlpacaPrompt(string Instruction, string Input);

/// <summary>
/// What every dataset format turns a row into: the turns in order, an optional system prompt,
/// and for Alpaca rows the original instruction/input.
/// </summary>
public sealed record Conversation(IReadOnlyList<Turn> Turns, string? System = null, AlpacaPrompt? Alpaca = null);

/// <summary>A row that is already tokenized (<c>input_ids</c>, <c>labels</c>, optional <c>attention_mask</c>).</summary>
public sealed record PreTokenized(int[] InputIds, int[] Labels, int[]? AttentionMask = null);

/// <summary>One dataset row: exactly one of <see cref="Conversation"/> or <see cref="Tokens"/> is set.
/// <paramref name="Source"/> names the file and line (or row) it came from, for error messages.</summary>
public sealed record DatasetExample(Conversation? Conversation, PreTokenized? Tokens, string Source);
