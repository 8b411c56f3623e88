/* Must NOT compile: the compute stage may not see the store. */
#include "store.h"

int mde_layout_probe(void);
int mde_layout_probe(void)
{
	return 0;
}
