using System.Text;
using System.Text.RegularExpressions;

namespace Sft.Data.Datasets.Sources;

/// <summary>
/// Glob patterns over forward-slash relative paths, as in Hugging Face <c>data_files</c>:
/// <c>*</c> (within a folder), <c>**</c> (across folders), <c>?</c>, <c>[abc]</c>, <c>{a,b}</c>.
/// </summary>
public static class Glob
{
    public static bool IsPattern(string pattern) => pattern.IndexOfAny(['*', '?', '[', '{']) >= 0;

    public static bool IsMatch(string pattern, string path) => ToRegex(pattern).IsMatch(path);

    public static Regex ToRegex(string pattern)
    {
        var sb = new StringBuilder("^");
        int braces = 0;
        for (int i = 0; i < pattern.Length; i++)
        {
            char c = pattern[i];
            switch (c)
            {
                case '*' when i + 1 < pattern.Length && pattern[i + 1] == '*':
                    bool folder = i + 2 < pattern.Length && pattern[i + 2] == '/';
                    sb.Append(folder ? "(?:.*/)?" : ".*");
                    i += folder ? 2 : 1;
                    break;
                case '*': sb.Append("[^/]*"); break;
                case '?': sb.Append("[^/]"); break;
                case '[':
                    int close = pattern.IndexOf(']', i + 1);
                    if (close < 0) { sb.Append(@"\["); break; }
                    var set = pattern[(i + 1)..close];
                    sb.Append('[').Append(set.StartsWith('!') ? "^" + Regex.Escape(set[1..]) : Regex.Escape(set)).Append(']');
                    i = close;
                    break;
                case '{': braces++; sb.Append("(?:"); break;
                case '}' when braces > 0: braces--; sb.Append(')'); break;
                case ',' when braces > 0: sb.Append('|'); break;
                default: sb.Append(Regex.Escape(c.ToString())); break;
            }
        }
        if (braces != 0) throw new DatasetException($"the pattern '{pattern}' has an unclosed '{{'.");
        return new Regex(sb.Append('$').ToString(), RegexOptions.CultureInvariant);
    }
}
