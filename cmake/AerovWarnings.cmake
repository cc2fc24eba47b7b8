# Warnings are errors in our own code. Third-party headers come from Debian
# packages through imported targets, so they are SYSTEM includes and exempt.
add_compile_options(-Wall -Wextra -Werror)
