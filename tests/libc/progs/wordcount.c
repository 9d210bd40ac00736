/* The worked example of docs/sandbox.md: a plain C program (main, stdio, malloc). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    size_t cap = 1 << 16, len = 0, n;
    char *text = malloc(cap);
    while ((n = fread(text + len, 1, cap - len, stdin)) > 0) {
        len += n;
        if (len == cap)
            text = realloc(text, cap *= 2);
    }
    if (len == 0) {
        fprintf(stderr, "empty input\n");
        return 1;
    }
    int lines = 0, words = 0, best = 0;
    char longest[64] = "";
    for (size_t i = 0; i < len;) {
        if (text[i] == '\n')
            lines++;
        if (isspace((unsigned char)text[i])) {
            i++;
            continue;
        }
        size_t start = i;
        while (i < len && !isspace((unsigned char)text[i]))
            i++;
        words++;
        if ((int)(i - start) > best && i - start < sizeof longest) {
            best = (int)(i - start);
            memcpy(longest, text + start, i - start);
            longest[i - start] = 0;
        }
    }
    printf("lines %d words %d longest %d (%s)\n", lines, words, best, longest);
    free(text);
    return 0;
}
