/* ABI v1 hostile: never reads its input, exits 0 at once. */
#include "rt.h"

int main(void)
{
    return 0;
}
