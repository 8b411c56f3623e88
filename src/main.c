/* main.c - placeholder until the CLI lands (next commit). */
#include <stdio.h>
int main(void)
{
	puts("mdenrich " MDE_VERSION);
	return 0;
}
