/* Must NOT compile: the store may not see the compute stage. */
#include "engine.h"

int mde_layout_probe(void);
int mde_layout_probe(void)
{
	return 0;
}
